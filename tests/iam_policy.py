"""A small IAM policy evaluator, and the roles' policies read from the plan of envs/aws.

Evaluation as IAM does it for one principal's identity-based policies: an explicit Deny wins, then
any Allow, else the request is implicitly denied
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Action/NotAction, Resource/NotResource with ``*`` and ``?`` wildcards (actions case-insensitive),
and the condition operators the project's policies use.

The plan comes from ``terraform test -json -verbose`` with the mocked provider: the mock renders
every ``aws_iam_policy_document`` as an empty document, so a policy is rebuilt from the statement
blocks of the document data source it depends on (the blocks are inputs, present in the state
with their references resolved).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# AWS managed policies the roles attach, as AWS publishes them (only the ones used).
MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSTaskExecutionRolePolicy.html
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ],
    },
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                "Resource": ["*"],
            }
        ],
    },
}

MOCK_DOCUMENT = '{"Version":"2012-10-17","Statement":[]}'


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


@cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.I if ignore_case else 0)


def matches(glob: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_pattern(glob, ignore_case).match(value))


def _condition_holds(op: str, key: str, wanted: list[str], context: dict[str, str]) -> bool:
    if_exists = op.endswith("IfExists")
    base = op.removesuffix("IfExists")
    if key not in context:
        return if_exists or base.startswith(("StringNot", "ArnNot"))
    got = context[key]
    if base in ("StringEquals", "ArnEquals"):
        return got in wanted
    if base == "StringEqualsIgnoreCase":
        return got.lower() in (w.lower() for w in wanted)
    if base in ("StringLike", "ArnLike"):
        return any(matches(w, got) for w in wanted)
    if base in ("StringNotEquals", "ArnNotEquals"):
        return got not in wanted
    if base in ("StringNotLike", "ArnNotLike"):
        return not any(matches(w, got) for w in wanted)
    if base == "Bool":
        return got.lower() in (w.lower() for w in wanted)
    raise ValueError(f"condition operator {op} is not supported by this evaluator")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allow <sid>", "explicit deny <sid>" or "implicit deny"


@dataclass
class Policy:
    name: str
    document: dict[str, Any]

    def statements(self) -> list[dict[str, Any]]:
        return _as_list(self.document.get("Statement"))


def _statement_applies(
    st: dict[str, Any], action: str, resource: str, context: dict[str, str]
) -> bool:
    if "Action" in st:
        if not any(matches(a, action, True) for a in _as_list(st["Action"])):
            return False
    elif any(matches(a, action, True) for a in _as_list(st.get("NotAction"))):
        return False
    if "Resource" in st:
        if not any(matches(r, resource) for r in _as_list(st["Resource"])):
            return False
    elif any(matches(r, resource) for r in _as_list(st.get("NotResource"))):
        return False
    for op, keys in (st.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(op, key, [str(w) for w in _as_list(wanted)], context):
                return False
    return True


def evaluate(
    policies: list[Policy], action: str, resource: str, context: dict[str, str] | None = None
) -> Decision:
    # Requests in AWS go over TLS: the SDKs' endpoints are https.
    ctx = {"aws:SecureTransport": "true", **(context or {})}
    allow = None
    for policy in policies:
        for i, st in enumerate(policy.statements()):
            if not _statement_applies(st, action, resource, ctx):
                continue
            sid = f"{policy.name}/{st.get('Sid') or i}"
            if st.get("Effect") == "Deny":
                return Decision(False, f"explicit deny {sid}")
            allow = allow or sid
    return Decision(True, f"allow {allow}") if allow else Decision(False, "implicit deny")


# ---- the plan --------------------------------------------------------------------------------


def _statement_from_block(b: dict[str, Any]) -> dict[str, Any]:
    """An ``aws_iam_policy_document`` statement block as policy JSON."""
    st: dict[str, Any] = {"Effect": b.get("effect") or "Allow"}
    if b.get("sid"):
        st["Sid"] = b["sid"]
    for block_key, json_key in (
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ):
        if b.get(block_key):
            st[json_key] = sorted(b[block_key])
    conditions: dict[str, dict[str, list[str]]] = {}
    for c in b.get("condition") or []:
        conditions.setdefault(c["test"], {})[c["variable"]] = c["values"]
    if conditions:
        st["Condition"] = conditions
    return st


def _document_from_data(values: dict[str, Any]) -> dict[str, Any]:
    unsupported = ("source_policy_documents", "override_policy_documents", "source_json")
    if any(values.get(k) for k in unsupported):
        raise ValueError(f"policy document {values.get('id')} merges documents: not supported")
    return {
        "Version": "2012-10-17",
        "Statement": [_statement_from_block(b) for b in values["statement"]],
    }


def resources(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> resource (values, depends_on), through every child module."""
    out: dict[str, dict[str, Any]] = {}
    todo = [state["root_module"]]
    while todo:
        module = todo.pop()
        out.update({r["address"]: r for r in module.get("resources", [])})
        todo.extend(module.get("child_modules", []))
    return out


@dataclass
class Plan:
    """The roles of one ``terraform test`` run's final state and their policies."""

    state: dict[str, Any]
    _res: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._res = resources(self.state)

    def output(self, name: str) -> Any:
        return self.state["outputs"][name]["value"]

    def value(self, address: str) -> dict[str, Any]:
        values: dict[str, Any] = self._res[address]["values"]
        return values

    def _document_of(self, address: str) -> dict[str, Any]:
        r = self._res[address]
        policy = r["values"]["policy"]
        if policy != MOCK_DOCUMENT:
            doc: dict[str, Any] = json.loads(policy)
            return doc
        # The mock rendered the data source: rebuild it from the one permissions document
        # (no principals, unlike a trust policy) that this policy depends on.
        docs = [
            d
            for d in r.get("depends_on", [])
            if d.split(".")[-2:-1] == ["aws_iam_policy_document"] and ".data." in f".{d}"
        ]
        found: list[dict[str, Any]] = []
        for d in docs:
            for addr, res in self._res.items():
                if addr == d or addr.startswith(f"{d}["):
                    statements = res["values"]["statement"]
                    if not any(s.get("principals") or s.get("not_principals") for s in statements):
                        found.append(_document_from_data(res["values"]))
        if len(found) != 1:
            raise ValueError(f"{address}: cannot tell its policy document among {docs}")
        return found[0]

    def policies(self, role_address: str) -> list[Policy]:
        """Inline and attached policies of a role (its identity-based policies)."""
        role = self.value(role_address)
        names = {role.get("name"), role.get("id")} - {None}
        out: list[Policy] = []
        for addr, r in sorted(self._res.items()):
            v = r["values"]
            if r.get("mode") != "managed" or v.get("role") not in names:
                continue
            if r["type"] == "aws_iam_role_policy":
                out.append(Policy(addr, self._document_of(addr)))
            elif r["type"] == "aws_iam_role_policy_attachment":
                out.append(self._attached(addr, v["policy_arn"]))
        for arn in role.get("managed_policy_arns") or []:
            out.append(self._attached(role_address, arn))
        for inline in role.get("inline_policy") or []:
            if inline.get("policy"):
                out.append(Policy(f"{role_address}/{inline['name']}", json.loads(inline["policy"])))
        return out

    def _attached(self, where: str, arn: str) -> Policy:
        if arn in MANAGED_POLICIES:
            return Policy(arn.rsplit("/", 1)[-1], MANAGED_POLICIES[arn])
        for addr, r in self._res.items():
            if r["type"] == "aws_iam_policy" and r["values"].get("arn") == arn:
                return Policy(addr, self._document_of(addr))
        raise ValueError(f"{where}: attached policy {arn} is unknown to the evaluator")
