"""Checks the output of `sam build`: the artefacts must run on Lambda's arm64 python3.13, whatever machine built them.

Nothing here can import the layer's compiled modules (they are arm64 and this host may not be), so compiled files are
checked by their ELF header and only pure-Python packages are imported, in a subprocess.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.build

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
LAYER_SITE = BUILD_DIR / "SharedLayer" / "python"
FUNCTION_DIR = BUILD_DIR / "UpdateProductFunction"
LAYER_LOCK = ROOT / "layers" / "shared" / "requirements.txt"
SHARED_SOURCE = ROOT / "layers" / "shared" / "products_api"
# Every function of the template: logical id -> its source folder under functions/.
FUNCTIONS = {
    "UpdateProductFunction": "update_product",
    "GetProductHistoryFunction": "get_product_history",
    "GetProductsFunction": "get_products",
    "ProductChangesFunction": "product_changes",
    # only deployed with PublishDocs=true, but always built
    "DocsFunction": "docs_page",
    "ProductImagesFunction": "upload_product_image",
    "IngestProductImageFunction": "ingest_product_image",
    "GetUsageFunction": "get_usage",
}
# The layers a function has besides SharedLayer.
DOCS_LAYERS = {"DocsFunction": [{"Ref": "DocsSiteLayer"}, {"Ref": "SwaggerUiLayer"}]}

ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
EM_AARCH64 = 183
# Extension modules importable by CPython 3.13 on Linux: the version-specific tag or the stable ABI.
EXTENSION_TAG = re.compile(r"\.(cpython-313-aarch64-linux-gnu|abi3)\.so$")
# Lambda's limit for a function and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def _built() -> None:
    # The suite runs `sam build` first, so a missing build is a broken pipeline, not a reason to skip.
    for path in (BUILD_DIR / "template.yaml", LAYER_SITE, FUNCTION_DIR):
        if not path.exists():
            pytest.fail(f"{path.relative_to(ROOT)} is missing: run `make sam-build` before these tests", pytrace=False)


class _CfnLoader(yaml.SafeLoader):
    """Safe loader that reads CloudFormation short-form tags (!Ref, !GetAtt, ...) as their long form."""


def _cfn_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def _load_built_template() -> dict[str, Any]:
    with (BUILD_DIR / "template.yaml").open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(template, dict)
    return template


def _elf_header(path: Path) -> tuple[int, int, int] | None:
    """(class, data encoding, e_machine) of an ELF file, or None if the file is not ELF."""
    with path.open("rb") as stream:
        ident = stream.read(20)
    if len(ident) < 20 or not ident.startswith(ELF_MAGIC):
        return None
    elf_class, encoding = ident[4], ident[5]
    (machine,) = struct.unpack("<H" if encoding == ELFDATA2LSB else ">H", ident[18:20])
    return elf_class, encoding, machine


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def _tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in _files(root))


def test_every_compiled_file_in_the_layer_is_linux_aarch64() -> None:
    elf_files = {path: header for path in _files(LAYER_SITE) if (header := _elf_header(path)) is not None}
    wrong = {
        str(path.relative_to(LAYER_SITE)): header
        for path, header in elf_files.items()
        if header != (ELFCLASS64, ELFDATA2LSB, EM_AARCH64)
    }
    assert not wrong, f"not 64-bit little-endian AArch64 (class, encoding, e_machine): {wrong}"
    not_elf = [str(path.relative_to(LAYER_SITE)) for path in LAYER_SITE.rglob("*.so") if path not in elf_files]
    assert not not_elf, f"*.so files that are not ELF: {not_elf}"


def test_extension_modules_are_tagged_for_cpython_313() -> None:
    # Shared libraries vendored by auditwheel live in <package>.libs/ and are not extension modules.
    modules = [path for path in LAYER_SITE.rglob("*.so") if not path.parent.name.endswith(".libs")]
    untagged = [str(path.relative_to(LAYER_SITE)) for path in modules if not EXTENSION_TAG.search(path.name)]
    assert not untagged, f"extension modules not built for CPython 3.13 on aarch64: {untagged}"
    assert list((LAYER_SITE / "pydantic_core").glob("_pydantic_core.*.so")), "pydantic_core's extension is missing"


def test_layer_holds_exactly_the_locked_versions() -> None:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", LAYER_LOCK.read_text(encoding="utf-8"), re.M)
    assert pins, f"no pins found in {LAYER_LOCK}"
    installed = {path.name.lower() for path in LAYER_SITE.glob("*.dist-info")}
    missing = [
        f"{name}=={version}"
        for name, version in pins
        if f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.dist-info".lower() not in installed
    ]
    assert not missing, f"locked but not in the layer: {missing}"
    assert len(installed) == len(pins), f"the layer holds distributions that are not locked: {sorted(installed)}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_built_template_targets_arm64_python313(logical_id: str) -> None:
    template = _load_built_template()
    resources = template["Resources"]
    function_globals = template.get("Globals", {}).get("Function", {})
    assert {name for name, item in resources.items() if item["Type"] == "AWS::Serverless::Function"} == set(FUNCTIONS)

    function = resources[logical_id]["Properties"]
    assert function.get("Runtime", function_globals.get("Runtime")) == "python3.13"
    assert function.get("Architectures", function_globals.get("Architectures")) == ["arm64"]

    layer = resources["SharedLayer"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer.get("Metadata", {}).get("BuildArchitecture") == "arm64"
    assert function["Layers"][0] == {"Ref": "SharedLayer"}
    assert function["Layers"][1:] == DOCS_LAYERS.get(logical_id, [])


def test_the_docs_layers_hold_what_the_docs_function_serves() -> None:
    """sam build leaves the docs layers unbuilt: their ContentUri (docs/, swagger-ui-dist) is shipped as it is."""
    resources = _load_built_template()["Resources"]
    for name in ("DocsSiteLayer", "SwaggerUiLayer"):
        folder = (BUILD_DIR / resources[name]["Properties"]["ContentUri"]).resolve()
        assert folder.is_dir(), f"{name}: {folder} is missing (make install)"
    site = (BUILD_DIR / resources["DocsSiteLayer"]["Properties"]["ContentUri"]).resolve()
    swagger_ui = (BUILD_DIR / resources["SwaggerUiLayer"]["Properties"]["ContentUri"]).resolve()
    assert (site / "site" / "index.html").is_file() and (site / "openapi.json").is_file()
    assert (swagger_ui / "swagger-ui-bundle.js").is_file() and (swagger_ui / "swagger-ui.css").is_file()


def test_shared_package_is_in_the_layer() -> None:
    built = LAYER_SITE / "products_api"
    assert (built / "__init__.py").is_file(), "python/products_api is missing from the layer"
    expected = {str(path.relative_to(SHARED_SOURCE)) for path in SHARED_SOURCE.rglob("*.py")}
    shipped = {str(path.relative_to(built)) for path in built.rglob("*.py")}
    missing = sorted(expected - shipped)
    assert not missing, f"modules of layers/shared/products_api not in the layer (stale build?): {missing}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_module_is_in_the_function(logical_id: str) -> None:
    template = _load_built_template()
    function_dir = BUILD_DIR / logical_id
    handler = template["Resources"][logical_id]["Properties"]["Handler"]
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    assert (function_dir / f"{module}.py").is_file(), f"handler module {module}.py is not in the function artefact"
    expected = {path.name for path in (ROOT / "functions" / FUNCTIONS[logical_id]).glob("*.py")}
    shipped = {path.name for path in function_dir.glob("*.py")}
    missing = sorted(expected - shipped)
    assert not missing, f"modules of functions/{FUNCTIONS[logical_id]} not in the artefact (stale build?): {missing}"


def test_nothing_lambda_cannot_use_is_shipped() -> None:
    assert not (LAYER_SITE / "bin").exists(), "console scripts with the build host's shebang should be trimmed"
    # the language codes are a literal in the layer: pycountry and pydantic-extra-types are dev dependencies only
    assert not (LAYER_SITE / "pycountry").exists(), "pycountry is not a runtime dependency"
    assert not (LAYER_SITE / "pydantic_extra_types").exists(), "pydantic-extra-types is not a runtime dependency"
    total = _tree_size(LAYER_SITE.parent) + _tree_size(FUNCTION_DIR)
    assert total < LAMBDA_UNZIPPED_LIMIT, f"function and layer are {total} bytes unzipped, over Lambda's limit"


def test_the_tracer_can_patch_botocore_from_the_trimmed_layer(tmp_path: Path) -> None:
    # The layer's Makefile drops aws_xray_sdk's patchers for other libraries; the botocore one the Tracer uses must
    # remain. botocore itself comes from this virtualenv, as it comes from the Lambda runtime (the layer has none);
    # wrapt's arm64 extension cannot load here, so wrapt runs as pure Python, which it supports.
    code = (
        "import aws_xray_sdk\n"
        "from aws_xray_sdk.core import patch\n"
        "patch(['botocore'])\n"
        "import botocore.client\n"
        "print(aws_xray_sdk.__file__)\n"
        "print(type(botocore.client.BaseClient._make_api_call).__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(LAYER_SITE), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    location, wrapper = result.stdout.splitlines()
    assert Path(location).is_relative_to(LAYER_SITE), f"aws_xray_sdk was imported from {location}, not the layer"
    assert wrapper.endswith("FunctionWrapper"), "botocore's API calls are not wrapped for tracing"
    assert not (LAYER_SITE / "botocore").exists(), "botocore must come from the Lambda runtime, not the layer"


# --- bytecode: compiled by CPython 3.13 so that Lambda's python3.13 loads it instead of compiling at cold start ---

PYTHON313 = subprocess.run(
    ["bash", str(ROOT / "scripts" / "find-python313.sh")], capture_output=True, text=True, check=False
).stdout.strip()
needs_313 = pytest.mark.skipif(
    not PYTHON313,
    reason="no CPython 3.13 on this machine (scripts/find-python313.sh): the build shipped sources only, and only a "
    "3.13 interpreter can check 3.13 bytecode",
)
# Run by CPython 3.13 over every shipped .py: its .pyc must exist where the runtime looks for it (no
# sys.pycache_prefix in Lambda, no -O: __pycache__/<name>.cpython-313.pyc), carry 3.13's magic number, be
# hash-based with check_source off (flags 0b01: importlib then never reads the source), and hold this very source's
# hash. Prints what is wrong, one line each.
_CHECK_PYC = """
import importlib.util, sys
from pathlib import Path
bad = []
for root in sys.argv[1:]:
    for source in Path(root).rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            bad.append(f"{source}: no {cached.name}")
            continue
        header = cached.read_bytes()[:16]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            bad.append(f"{source}: magic {header[:4]!r}, not 3.13's {importlib.util.MAGIC_NUMBER!r}")
        elif int.from_bytes(header[4:8], "little") != 0b01:
            bad.append(f"{source}: flags {int.from_bytes(header[4:8], 'little'):#b}, not unchecked-hash (0b01)")
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            bad.append(f"{source}: compiled from another source (stale build?)")
print("\\n".join(bad))
"""


@needs_313
def test_every_shipped_module_has_its_unchecked_313_bytecode() -> None:
    roots = [LAYER_SITE, *(BUILD_DIR / logical_id for logical_id in FUNCTIONS)]
    result = subprocess.run(
        [PYTHON313, "-I", "-c", _CHECK_PYC, *map(str, roots)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not result.stdout.strip(), result.stdout[:3000]
    assert len(list(LAYER_SITE.rglob("*.pyc"))) >= len(list(LAYER_SITE.rglob("*.py")))


@needs_313
def test_python313_loads_the_shipped_bytecode_without_its_source(tmp_path: Path) -> None:
    # What the runtime does with /opt/python: a copy of the layer's own package whose sources are then broken. The
    # import still works and runs the shipped code, so 3.13 used the .pyc and never compiled (nor checked) the source.
    site = tmp_path / "python"
    package = site / "products_api"
    shutil.copytree(LAYER_SITE / "products_api", package)
    for name in ("__init__.py", "products/__init__.py", "products/language_codes.py"):
        (package / name).write_text("raise SystemExit('the source was compiled, not the shipped bytecode')\n")
    code = (
        "import sys\n"
        "from products_api.products import language_codes\n"
        "print(language_codes.__spec__.cached)\n"
        "print(len(language_codes.ISO_639_1), language_codes.__spec__.loader.__class__.__name__)\n"
    )
    env = {"PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1", "PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [PYTHON313, "-S", "-v", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    cached, summary = result.stdout.splitlines()
    assert cached.endswith("products/__pycache__/language_codes.cpython-313.pyc")
    assert summary == "184 SourceFileLoader"
    assert f"code object from '{cached}'" in result.stderr  # -v: loaded from the .pyc
    # the code objects name the path Lambda sees (compileall -p)
    assert "/opt/python/products_api/products/language_codes.py" in (
        LAYER_SITE / "products_api" / "products" / "__pycache__" / "language_codes.cpython-313.pyc"
    ).read_bytes().decode("latin-1")
