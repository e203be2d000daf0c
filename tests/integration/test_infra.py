"""The container image and the SAM template, checked without Docker or an AWS account: hadolint and cfn-lint
(both pinned in requirements-dev.txt), SAM's own translator, and the choices the deployment depends on."""

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
TEMPLATE = ROOT / "infra" / "template.yaml"
LAMBDA_VCPU_MB = 1769  # Lambda gives one full vCPU at 1769 MB, and CPU in proportion to memory


def tool(name: str) -> str:
    path = BIN / name
    assert path.is_file(), f"{name} is missing: it comes from requirements-dev.txt (make install)"
    return str(path)


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import decode

    parsed, problems = decode(str(TEMPLATE))
    assert not problems, problems
    return json.loads(json.dumps(parsed))


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, comments and continuations folded."""
    text = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


# ---- linters ------------------------------------------------------------------------------------------
def test_hadolint_passes_on_the_dockerfile():
    done = subprocess.run([tool("hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cfn_lint_passes_on_the_template_offline():
    done = subprocess.run(
        [tool("cfn-lint"), "infra/template.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


PRICE_ROUTES = ("/v1/predict-price/{stockcode}", "/v1/price-decision/{stockcode}")


def test_sam_translates_the_template_and_the_api_key_is_asked_only_when_chosen(template, monkeypatch):
    """SAM's translator, as CloudFormation's transform runs it: cfn-lint alone let a wrongly nested OpenAPI
    document through, and SAM reads an !If in an event's ApiKeyRequired as true."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")  # the translator builds ARNs for a region
    policies = {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in ("AWSLambdaBasicExecutionRole",)}
    policies["AWSLambdaVPCAccessExecutionRole"] = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    translated = Translator(policies, Parser()).translate(
        json.loads(json.dumps(template)), parameter_values={"AWS::Region": "us-east-2"}
    )
    resources = translated["Resources"]
    (rest_api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    paths = rest_api["Properties"]["Body"]["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            keyed = path in (*PRICE_ROUTES, "/v1/products", "/v1/launch-decision") and method == "get"
            security = operation.get("security")
            if keyed:
                assert security == {"Fn::If": ["UseApiKey", [{"api_key": []}], {"Ref": "AWS::NoValue"}]}
            else:
                assert security is None, (path, method)
    assert any(r["Type"] == "AWS::ApiGateway::Stage" for r in resources.values())
    assert {r["Type"] for r in resources.values()} >= {"AWS::Lambda::Function", "AWS::Events::Rule"}


# ---- the image ----------------------------------------------------------------------------------------
def test_the_image_is_the_lambda_python_base_without_torch_and_awslambdaric_as_entrypoint(dockerfile):
    final_stage = dockerfile[max(i for i, (op, _) in enumerate(dockerfile) if op == "FROM") :]
    assert final_stage[0] == ("FROM", "public.ecr.aws/lambda/python:3.11")
    instructions = dict(final_stage)
    assert instructions["ENTRYPOINT"] == '["python", "-m", "awslambdaric"]'
    assert instructions["CMD"] == '["app.handler"]'
    runs = [args for op, args in final_stage if op == "RUN"]
    assert not any("torch" in run for run in runs)  # the networks serve from their NumPy export
    requirements_run = next(i for i, (op, args) in enumerate(final_stage) if op == "RUN" and "requirements" in args)
    first_code_copy = next(i for i, (op, args) in enumerate(final_stage) if op == "COPY" and "src/pricing" in args)
    assert requirements_run < first_code_copy  # dependency layers before code


def test_the_bundle_is_not_baked_in_unless_asked(dockerfile):
    args = dict(line.split("=", 1) for op, line in dockerfile if op == "ARG" and "=" in line)
    assert args["BUNDLE_STORE"] == "infra/no-bundle"
    assert not (ROOT / "infra" / "no-bundle" / "LATEST").exists()
    assert "models/production" in (ROOT / "Dockerfile").read_text()  # the documented way to bake one


def test_the_image_installs_what_its_entrypoint_and_handler_import():
    pins = (ROOT / "requirements.txt").read_text()
    for package in ("awslambdaric==", "aws-lambda-powertools==", "aws-wsgi==", "lightgbm=="):
        assert package in pins, package
    # training's; requirements-dev.txt pins them (the networks serve from arrays, the scikit-learn fallbacks from JSON)
    assert not {"torch", "scikit-learn"} & {r.name for r in pinned(pins)}


def test_the_build_context_leaves_data_notebooks_reports_and_node_modules_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in ("data/", "notebooks/", "reports/", "**/node_modules/", ".venv/", ".git/"):
        assert entry in ignored, entry


# ---- what the image carries: checked against the modules the serving process really imports ------------------
# Imported lazily by the serving process, after start-up: the S3 batch and warm-up events, /openapi.json, the
# model classes a bundle names (an empty store loads none of them), and the local server.
LAZY_SERVING_MODULES = (
    "pricing.serving.batch",
    "pricing.serving.warmup",
    "pricing.serving.openapi",
    "pricing.models.arrays",
    "pricing.models.fallbacks",
    "pricing.models.incidence_lightgbm",
    "pricing.serving.local",  # `python app.py`, the documented way to serve from the image without Lambda
)
# The batch job's packages: requirements-dev.txt and the `train` extra pin them; the image must not install them.
TRAINING_ONLY_DISTRIBUTIONS = (
    "torch",
    "scikit-learn",
    "optuna",
    "scikit-optimize",
    "matplotlib",
    "tqdm",
    "openpyxl",
    "skops",
)
# Code the image must not carry: it measures or trains, and imports the packages above.
NOT_SHIPPED = (
    "pricing/tools/",
    "pricing/training/",
    "pricing/cli/",
    "pricing/__main__.py",
    "pricing/data/generate.py",
    "pricing/data/synthetic/",
    "pricing/data/load.py",
    "pricing/data/prepare.py",
)

# Runs in a fresh interpreter before `import app`. Two hooks: builtins.__import__ records every top-level name
# that app.py or a pricing module imports itself (even one already loaded by someone else), and a meta-path
# finder records who first loaded each top-level module (a library's optional import, e.g. torch.hub's
# `from tqdm import tqdm`, is told apart from ours). The finder finds nothing itself: imports resolve as usual.
SERVING_PROBE_PRELUDE = """
import builtins, importlib.metadata, json, sys, sysconfig
from pathlib import Path

BASELINE = {name.partition(".")[0] for name in sys.modules}
DIRECT, FIRST_IMPORTER = set(), {}
_import = builtins.__import__

def _ours(module_name):
    return module_name == "app" or module_name == "pricing" or module_name.startswith("pricing.")

def _hook(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and _ours((globals or {}).get("__name__", "")):
        DIRECT.add(name.partition(".")[0])
    return _import(name, globals, locals, fromlist, level)

class _Watch:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if "." not in name and name not in FIRST_IMPORTER:
            frame = sys._getframe(1)
            while frame and (frame.f_code is _hook.__code__ or frame.f_globals.get("__name__", "").startswith(
                ("importlib", "_frozen_importlib"))):
                frame = frame.f_back
            FIRST_IMPORTER[name] = frame.f_globals.get("__name__", "?") if frame else "?"
        return None

builtins.__import__ = _hook
sys.meta_path.insert(0, _Watch)

def report(**extra):
    site = [Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")]
    distributions = importlib.metadata.packages_distributions()
    loaded = {name.partition(".")[0] for name, module in sys.modules.items() if module is not None} - BASELINE
    third_party = {}
    for name in sorted(loaded):
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or []), None)
        for folder in site:
            if where and Path(where).resolve().is_relative_to(folder):
                # named by where it lies: Cython files register aliases (`_cyutility` is pandas._libs._cyutility)
                top = Path(where).resolve().relative_to(folder).parts[0].split(".")[0]
                third_party[top] = {"distributions": sorted(set(distributions.get(top, []))),
                                    "first_importer": FIRST_IMPORTER.get(top, "?")}
    pricing = {name: module.__file__ for name, module in sys.modules.items()
               if module is not None and (name == "pricing" or name.startswith("pricing."))}
    print(json.dumps({"loaded": sorted(loaded), "third_party": third_party, "pricing": pricing,
                      "direct": sorted(DIRECT), **extra}))
"""


def run_serving_probe(store_root: Path, code: str, **extra_env: str) -> dict:
    """Import app.py as Lambda's init does (ENV=test, no Redis, `extra_env` over it), run `code` in that process,
    then report its modules: the JSON printed by the prelude's report()."""
    env = {**os.environ, "ARTIFACT_STORE": str(store_root), "ENV": "test", "LOG_LEVEL": "WARNING", **extra_env}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SERVING_PROBE_PRELUDE + "import app\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def serving_modules(tmp_path_factory) -> dict:
    """The serving process with an empty store (it starts without a bundle), plus what it imports later."""
    empty_store = tmp_path_factory.mktemp("empty-store")
    imports = "".join(f"import {name}\n" for name in LAZY_SERVING_MODULES)
    return run_serving_probe(empty_store, imports + "report()\n")


def copied_pricing_files(instructions: list[tuple[str, str]]) -> dict[str, Path]:
    """Where each pricing source file lands in the image (a path under ${LAMBDA_TASK_ROOT}) -> the file here,
    from the final stage's COPY lines, with Docker's rules: a directory source copies its contents into the
    destination, a file source lands in a destination that ends with '/' under its own name."""
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    copied = {}
    for op, args in final_stage:
        parts = [part for part in args.split() if not part.startswith("--")]
        if op != "COPY" or "--from=" in args:
            continue
        *sources, destination = parts
        for source in sources:
            if not source.startswith("src/pricing"):
                continue
            path = ROOT / source
            assert path.exists(), f"COPY {source}: no such file (docker build would fail)"
            if path.is_dir():
                files = {f.relative_to(path).as_posix(): f for f in path.rglob("*.py") if "__pycache__" not in f.parts}
                copied.update({f"{destination.rstrip('/')}/{rel}": f for rel, f in files.items()})
            else:
                copied[destination + path.name if destination.endswith("/") else destination] = path
    return copied


def check_image_carries_serving_code_only(instructions: list[tuple[str, str]], pricing: dict[str, str]) -> None:
    copied = copied_pricing_files(instructions)
    in_image = {path.removeprefix("${LAMBDA_TASK_ROOT}/") for path in copied}
    needed = {name: Path(file).relative_to(ROOT / "src").as_posix() for name, file in pricing.items()}
    missing = {name: path for name, path in needed.items() if path not in in_image}
    assert not missing, f"the serving process imports these, the image does not copy them: {missing}"
    shipped_training = sorted(path for path in in_image if path.startswith(NOT_SHIPPED))
    assert not shipped_training, f"the image copies training or tooling code: {shipped_training}"


def test_the_image_copies_every_pricing_module_serving_imports_and_no_training_or_tools(dockerfile, serving_modules):
    # the probe saw the lazily imported modules and the model classes, or the check below proves little
    assert set(LAZY_SERVING_MODULES) | {"pricing.serving.app", "pricing.artifacts.store"} <= set(
        serving_modules["pricing"]
    )
    check_image_carries_serving_code_only(dockerfile, serving_modules["pricing"])


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements_text: str) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in requirements_text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """The pinned distributions and, recursively, what their installed metadata requires (extras followed)."""
    todo = [(r.name, frozenset(r.extras)) for r in requirements if r.marker is None or r.marker.evaluate()]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        name, extras = todo.pop()
        if (normalized(name), extras) in seen:
            continue
        seen.add((normalized(name), extras))
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here; its own dependencies cannot be read (the import check then says so)
        for requirement in map(Requirement, requires):
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen}


def check_requirements_serve_and_do_not_train(requirements_text: str, serving: dict) -> None:
    requirements = pinned(requirements_text)
    training = {normalized(name) for name in TRAINING_ONLY_DISTRIBUTIONS}
    named = sorted({normalized(r.name) for r in requirements} & training)
    assert not named, f"requirements.txt pins training-only packages: {named}"
    closure = installed_closure(requirements)
    pulled_in = sorted(closure & training)
    assert not pulled_in, f"requirements.txt pulls in training-only packages: {pulled_in}"
    unprovided = {}
    for module, seen in serving["third_party"].items():
        if {normalized(d) for d in seen["distributions"]} & closure:
            continue
        importer = seen["first_importer"].partition(".")[0]
        importer_provided = {normalized(d) for d in importlib.metadata.packages_distributions().get(importer, [])}
        # A library's optional import (torch.hub tries tqdm, falling back when it is absent) is the library's
        # business; an import of ours, or one by something requirements.txt does not provide, is not.
        if module in serving["direct"] or not importer_provided & closure:
            unprovided[module] = seen
    assert not unprovided, f"imported by the serving process, not provided by requirements.txt: {unprovided}"


def test_the_runtime_requirements_provide_what_serving_imports_and_no_training_package(serving_modules):
    # the probe saw the libraries the image exists for, or the check below proves little
    assert {"flask", "pandas", "pyarrow", "aws_lambda_powertools", "awsgi"} <= set(serving_modules["third_party"])
    check_requirements_serve_and_do_not_train((ROOT / "requirements.txt").read_text(), serving_modules)


# ---- the template -------------------------------------------------------------------------------------
def functions(template: dict) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_torch_threads_match_the_vcpus_the_memory_buys(template):
    function_globals = template["Globals"]["Function"]
    memory = function_globals["MemorySize"]
    threads = int(function_globals["Environment"]["Variables"]["TORCH_THREADS"])
    assert threads == max(1, memory // LAMBDA_VCPU_MB)
    for function in functions(template).values():
        assert "MemorySize" not in function["Properties"]  # one size, one thread count


def test_the_api_timeout_fits_api_gateway_and_the_worker_can_run_a_long_batch(template):
    fns = functions(template)
    assert fns["ApiFunction"]["Properties"]["Timeout"] < 29  # REST API integration limit
    assert fns["WorkerFunction"]["Properties"]["Timeout"] == 900


def test_every_api_route_of_the_app_is_routed_by_the_rest_api(template):
    from flask import Flask

    from pricing.serving.app import routes  # the blueprint: its rules are the API's routes

    app = Flask("routes")
    app.register_blueprint(routes)
    app_paths = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    }
    routed = set(template["Resources"]["Api"]["Properties"]["DefinitionBody"]["paths"])
    assert app_paths <= routed, app_paths - routed


def s3_statements(function: dict) -> list[dict]:
    return [s for policy in function["Properties"]["Policies"] for s in policy["Statement"]]


def resource_text(statement: dict) -> str:
    """The ARN pattern of a statement's single resource (a !Sub string)."""
    return statement["Resource"]["Fn::Sub"]


def test_s3_access_is_least_privilege_per_function(template):
    fns = functions(template)
    api_statements = s3_statements(fns["ApiFunction"])
    assert {s["Action"] for s in api_statements} == {"s3:GetObject", "s3:ListBucket"}  # the API writes nothing
    worker = s3_statements(fns["WorkerFunction"])
    writes = [s for s in worker if "Put" in s["Action"]]
    assert len(writes) == 1 and writes[0]["Action"] == "s3:PutObject"
    assert resource_text(writes[0]).endswith("}/batch/out/*")
    reads = [s for s in worker if s["Action"] == "s3:GetObject"]
    assert sorted(resource_text(s).rsplit("}", 1)[-1] for s in reads) == ["/batch/in/*", "/bundles/*"]
    assert [resource_text(s).rsplit("}", 1)[-1] for s in api_statements if s["Action"] == "s3:GetObject"] == [
        "/bundles/*"
    ]
    for statement in api_statements + worker:
        assert "*" not in statement["Action"]


def test_redis_is_tls_only_in_private_subnets_and_the_functions_run_in_the_vpc(template):
    resources = template["Resources"]
    redis = resources["Redis"]["Properties"]
    assert redis["TransitEncryptionEnabled"] is True and redis["AtRestEncryptionEnabled"] is True
    for subnet in ("PrivateSubnetA", "PrivateSubnetB"):
        assert resources[subnet]["Properties"]["MapPublicIpOnLaunch"] is False
    assert not [r for r in resources.values() if r["Type"] in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")]
    assert resources["S3GatewayEndpoint"]["Properties"]["VpcEndpointType"] == "Gateway"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["REDIS_URL"]["Fn::Sub"].startswith("rediss://") and variables["ENV"] == "production"
    # cluster mode, as the app is told: the configuration endpoint and the RedisCluster client
    assert "ConfigurationEndPoint" in variables["REDIS_URL"]["Fn::Sub"] and variables["REDIS_CLUSTER"] == "true"
    assert redis["NumNodeGroups"] == {"Ref": "RedisShards"} and "NumCacheClusters" not in redis
    parameters = resources["RedisParameters"]["Properties"]["Properties"]
    assert parameters == {"cluster-enabled": "yes", "maxmemory-policy": "volatile-lru"}
    assert template["Globals"]["Function"]["VpcConfig"]["SubnetIds"] == [
        {"Ref": "PrivateSubnetA"},
        {"Ref": "PrivateSubnetB"},
    ]


def test_the_worker_is_triggered_by_batch_csv_uploads_and_the_warm_up_schedule(template):
    worker_events = functions(template)["WorkerFunction"]["Properties"]["Events"]
    s3 = worker_events["BatchFile"]["Properties"]
    assert s3["Events"] == "s3:ObjectCreated:*"
    assert {r["Name"]: r["Value"] for r in s3["Filter"]["S3Key"]["Rules"]} == {"prefix": "batch/in/", "suffix": ".csv"}
    assert worker_events["WarmUp"]["Type"] == "Schedule"


def test_the_api_is_throttled(template):
    (settings,) = template["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottleRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottleBurstLimit"}
