"""Templates the harness tests write: a table's template from its properties, and one with every table setting."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_template(folder: Path, text: str) -> Path:
    path = folder / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def table_template(properties: str) -> str:
    """A template with one table whose Properties are the given YAML lines (indented as in the template)."""
    return "Resources:\n  Things:\n    Type: AWS::DynamoDB::Table\n    Properties:\n" + textwrap.indent(
        textwrap.dedent(properties), "      "
    )


MINIMAL_TABLE = """\
BillingMode: PAY_PER_REQUEST
AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
KeySchema: [{AttributeName: id, KeyType: HASH}]
"""

# Everything a table may declare: indexes, a stream, provisioned capacity, and CloudFormation-only settings.
RICH_TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  EventsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-events"
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: "5", WriteCapacityUnits: 5}
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: gpk, AttributeType: S}
        - {AttributeName: lsk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: byGroup
          KeySchema: [{AttributeName: gpk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
          Projection: {ProjectionType: KEYS_ONLY}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
          ContributorInsightsSpecification: {Enabled: true}
      LocalSecondaryIndexes:
        - IndexName: byRank
          KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: lsk, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [title]}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      SSESpecification: {SSEEnabled: !If [IsProd, true, false]}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      DeletionProtectionEnabled: !Ref Protect
      Tags: [{Key: team, Value: !Ref Team}]
  OnDemandTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: kind, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: byKind
          KeySchema: [{AttributeName: kind, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: "false"}
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Stream: {Type: DynamoDB, Properties: {Stream: !GetAtt EventsTable.StreamArn}}
"""
