"""The Metadata API SOAP endpoint (``/services/Soap/m/{version}``): ``deploy`` and ``checkDeployStatus``.

The session travels in the envelope's ``SessionHeader`` (as simple-salesforce's metadata
client and jsforce send it), not in an ``Authorization`` header. Each call counts as one
API request. Answers use the Metadata namespace with the WSDL's element order; anything
the simulator does not model is a SOAP fault naming the operation, never a JSON 404.
The zip is never logged.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from sf_sim.deploy import MAX_ZIP_BYTES, DeployError
from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext

__all__ = ["metadata_soap"]

XML_TYPE = "text/xml; charset=utf-8"
MD = "http://soap.sforce.com/2006/04/metadata"
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    f'xmlns="{MD}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
)
_RESULT_ORDER = (
    "checkOnly", "completedDate", "createdBy", "createdByName", "createdDate", "details",
    "done", "id", "ignoreWarnings", "lastModifiedDate", "numberComponentErrors",
    "numberComponentsDeployed", "numberComponentsTotal", "numberTestErrors",
    "numberTestsCompleted", "numberTestsTotal", "rollbackOnError", "runTestsEnabled",
    "startDate", "status", "success",
)  # fmt: skip
_MESSAGE_ORDER = (
    "changed", "columnNumber", "componentType", "created", "createdDate", "deleted",
    "fileName", "fullName", "id", "lineNumber", "problem", "problemType", "success",
)  # fmt: skip


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fault(code: str, message: str) -> Reply:
    body = (
        "<soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        "</soapenv:Fault>"
    )
    envelope = _ENVELOPE.replace("<soapenv:Envelope ", f'<soapenv:Envelope xmlns:sf="{MD}" ')
    return Reply(500, envelope.format(body=body), content_type=XML_TYPE)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _element(name: str, values: dict[str, Any], order: tuple[str, ...]) -> str:
    inner = "".join(
        f"<{key}>{_value(values[key])}</{key}>" for key in order if values.get(key) is not None
    )
    return f"<{name}>{inner}</{name}>"


def _deploy_result(result: dict[str, Any], details: bool) -> str:
    values = {**result, "done": True, "details": None}
    parts = []
    for key in _RESULT_ORDER:
        if key == "details":
            inner = ""
            if details:
                inner += "".join(
                    _element("componentFailures", m, _MESSAGE_ORDER) for m in result["failures"]
                )
                inner += "".join(
                    _element("componentSuccesses", m, _MESSAGE_ORDER) for m in result["successes"]
                )
                inner += (
                    "<runTestResult><numFailures>0</numFailures><numTestsRun>0</numTestsRun>"
                    "<totalTime>0.0</totalTime></runTestResult>"
                )
            parts.append(f"<details>{inner}</details>")
        elif values.get(key) is not None:
            parts.append(f"<{key}>{_value(values[key])}</{key}>")
    return "<result>" + "".join(parts) + "</result>"


def metadata_soap(ctx: RequestContext) -> Reply:
    """``POST /services/Soap/m/{version}``: the Metadata API's ``deploy`` and ``checkDeployStatus``."""
    if len(ctx.body) > MAX_ZIP_BYTES * 4 // 3 + 65536:
        return _fault("INVALID_ZIP", "The zip file exceeds the 39 MB limit")
    try:
        root = ET.fromstring(ctx.body)
    except (ET.ParseError, LookupError, ValueError):  # also an unknown declared encoding
        return _fault("UNKNOWN_EXCEPTION", "Unable to parse the SOAP envelope")
    body = next((e for e in root.iter() if _local(e.tag) == "Body"), None)
    if body is None or not len(body):
        return _fault("UNKNOWN_EXCEPTION", "No operation available for request")
    call = body[0]
    operation = _local(call.tag)
    session = next((e.text for e in root.iter() if _local(e.tag) == "sessionId"), None)
    org = ctx.org
    try:
        user_id = org.sessions.authenticate((session or "").strip() or None)
        org.limits.charge(1)
    except SalesforceApiError as error:
        if error.error_code == "INVALID_SESSION_ID":
            return _fault(
                "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
            )
        return _fault(error.error_code, error.message)
    ctx.user_id = user_id
    args = {_local(child.tag): child for child in call}
    with org.run_as(user_id):
        try:
            if operation == "deploy":
                return _deploy(ctx, args)
            if operation == "checkDeployStatus":
                return _check(ctx, args)
        except DeployError as error:
            return _fault(error.code, error.message)
    return _fault(
        "UNKNOWN_EXCEPTION",
        f"No operation available for request {operation} (not modelled by sf_sim)",
    )


def _deploy(ctx: RequestContext, args: dict[str, ET.Element]) -> Reply:
    encoded = "".join((args["ZipFile"].text or "").split()) if "ZipFile" in args else ""
    if not encoded:
        raise DeployError("INVALID_ZIP", "ZipFile is required")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DeployError("INVALID_ZIP", "ZipFile is not valid base64") from exc
    options: dict[str, bool] = {}
    if "DeployOptions" in args:
        for child in args["DeployOptions"]:
            text = (child.text or "").strip().lower()
            if text in ("true", "false"):
                options[_local(child.tag)] = text == "true"
    deploy_id = ctx.org.deployments.deploy(data, options)
    result = f"<result><done>false</done><id>{deploy_id}</id><state>Queued</state></result>"
    return Reply(
        200,
        _ENVELOPE.format(body=f"<deployResponse>{result}</deployResponse>"),
        content_type=XML_TYPE,
    )


def _check(ctx: RequestContext, args: dict[str, ET.Element]) -> Reply:
    wanted = (args["asyncProcessId"].text or "").strip() if "asyncProcessId" in args else ""
    if not wanted:
        raise DeployError("INVALID_ID_FIELD", "asyncProcessId is required")
    details = (
        (args["includeDetails"].text or "").strip().lower() == "true"
        if "includeDetails" in args
        else False
    )
    result = ctx.org.deployments.status(wanted)
    return Reply(
        200,
        _ENVELOPE.format(
            body=f"<checkDeployStatusResponse>{_deploy_result(result, details)}</checkDeployStatusResponse>"
        ),
        content_type=XML_TYPE,
    )
