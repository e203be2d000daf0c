"""The container image and the SAM template, checked without Docker or an AWS account: hadolint and cfn-lint
(both pinned in requirements-dev.txt), SAM's own translator, and the choices the deployment depends on."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, comments and continuations folded."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


# ---- linters ------------------------------------------------------------------------------------------
def test_hadolint_passes_on_the_dockerfile():
    done = subprocess.run([tool("hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cfn_lint_passes_on_the_template_offline():
    done = subprocess.run(
        [tool("cfn-lint"), "infra/template.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


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
            keyed = path in ("/v1/predict-price/{stockcode}", "/v1/products") and method == "get"
            security = operation.get("security")
            if keyed:
                assert security == {"Fn::If": ["UseApiKey", [{"api_key": []}], {"Ref": "AWS::NoValue"}]}
            else:
                assert security is None, (path, method)
    assert any(r["Type"] == "AWS::ApiGateway::Stage" for r in resources.values())
    assert {r["Type"] for r in resources.values()} >= {"AWS::Lambda::Function", "AWS::Events::Rule"}


# ---- the image ----------------------------------------------------------------------------------------
def test_the_image_is_the_lambda_python_base_with_cpu_torch_and_awslambdaric_as_entrypoint(dockerfile):
    final_stage = dockerfile[max(i for i, (op, _) in enumerate(dockerfile) if op == "FROM") :]
    assert final_stage[0] == ("FROM", "public.ecr.aws/lambda/python:3.11")
    instructions = dict(final_stage)
    assert instructions["ENTRYPOINT"] == '["python", "-m", "awslambdaric"]'
    assert instructions["CMD"] == '["app.handler"]'
    runs = [args for op, args in final_stage if op == "RUN"]
    cpu_index = next(args.split("=", 1)[1] for op, args in final_stage if op == "ARG" and "TORCH_INDEX" in args)
    assert cpu_index == "https://download.pytorch.org/whl/cpu"
    assert any('--index-url "${TORCH_INDEX_URL}" torch==2.13.0' in run for run in runs)
    torch_run = next(i for i, (op, args) in enumerate(final_stage) if op == "RUN" and "torch==2.13.0" in args)
    requirements_run = next(i for i, (op, args) in enumerate(final_stage) if op == "RUN" and "requirements" in args)
    first_code_copy = next(i for i, (op, args) in enumerate(final_stage) if op == "COPY" and "src/pricing" in args)
    assert torch_run < requirements_run < first_code_copy  # dependency layers before code


def test_the_bundle_is_not_baked_in_unless_asked(dockerfile):
    args = dict(line.split("=", 1) for op, line in dockerfile if op == "ARG" and "=" in line)
    assert args["BUNDLE_STORE"] == "infra/no-bundle"
    assert not (ROOT / "infra" / "no-bundle" / "LATEST").exists()
    assert "models/production" in (ROOT / "Dockerfile").read_text()  # the documented way to bake one


def test_the_image_installs_what_its_entrypoint_and_handler_import():
    pins = (ROOT / "requirements.txt").read_text()
    for package in ("awslambdaric==", "aws-lambda-powertools==", "aws-wsgi==", "torch==2.13.0"):
        assert package in pins, package


def test_the_build_context_leaves_data_notebooks_reports_and_node_modules_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in ("data/", "notebooks/", "reports/", "**/node_modules/", ".venv/", ".git/"):
        assert entry in ignored, entry


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
