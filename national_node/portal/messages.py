"""What the pages tell a citizen, in Chinese: the portal's errors (by status, reason and field), a code's
defects, the form's mistakes, and why a confirmation is not verified. The API keeps the developers'
English messages; a page never shows them.
"""

from __future__ import annotations

from common import codes
from common.codes import CodeDefect
from national_node.portal.errors import PortalError, Violation

__all__ = ["code_problem", "error_text", "field_problem", "verification_problem"]

#: A page's title and what it says, by status.
_TITLES = {
    400: ("请求有误", "请求中有不正确的内容，请返回后重试。"),
    404: ("未找到", "您要的页面或登记不存在。"),
    405: ("不支持的操作", "此页面不支持该操作。"),
    409: ("无法办理", "该登记目前的状态不允许此操作。"),
    413: ("提交的内容过大", "提交的内容不能超过 32 KB。"),
    429: ("请求过于频繁", "请稍候再试。"),
    500: ("暂时无法完成", "系统暂时出现问题，已记录，请稍后再试。"),
    502: ("暂时无法完成", "国家登记节点暂时无法办理，请稍后再试。"),
    503: ("暂时无法完成", "国家登记节点暂时无法访问，请稍后再试。"),
}
_REASONS = {
    "REGISTRATION_NOT_FOUND": "没有找到这条登记。请检查链接，或通过“找数据”搜索。",
    "NOT_FOUND": "没有这个页面。请检查网址，或从首页进入。",
    "DEMAND_NOT_FOUND": "没有找到这条数据需求。请检查链接，或从“数据需求”列表进入。",
    "CODE_NOT_FOUND": "没有登记持有这个编号。",
    "RATE_LIMITED": "您的请求过于频繁，请约 {wait} 秒后再试。",
    "BODY_TOO_LARGE": "提交的内容不能超过 32 KB。",
    "LENGTH_REQUIRED": "提交的内容缺少长度信息，请使用浏览器的表单提交。",
    "NOT_YET_CHECKPOINTED": "国家登记透明日志尚未收录这个编号的确认单，请稍后再查。",
    "PAGE_TOKEN_INVALID": "翻页链接已失效，请重新搜索。",
    "PAGE_TOKEN_MISMATCH": "翻页链接与当前搜索条件不符，请从第一页开始。",
    "NATIONAL_UNAVAILABLE": "国家登记节点暂时无法访问，请稍后再试。",
    "REQUEST_ID_REUSED": "这份表单已用于提交另一份异议。请重新打开异议表单填写。",
}
_FIELDS = {
    "q": "关键词",
    "object_type": "登记对象",
    "region": "地区",
    "subject": "登记主体",
    "state": "登记状态",
    "update_frequency": "更新频率",
    "sharing_attribute": "共享属性",
    "open_attribute": "开放属性",
    "channel_kind": "获取方式",
    "sort": "排序",
    "page_size": "每页条数",
    "page_token": "翻页链接",
    "code": "登记编号",
    "name": "姓名或单位名称",
    "contact": "联系方式",
    "reason": "异议理由",
    "evidence_title": "材料名称",
    "evidence_uri": "材料链接",
    "evidence_sha256": "材料 SHA-256 摘要",
    "request_id": "回执编号",
}
#: What a field must look like, when it does not.
_SHAPES = {
    "object_type": "请从筛选项中选择登记对象。",
    "region": "请从筛选项中选择地区。",
    "subject": "登记主体应为 18 位统一社会信用代码。",
    "state": "请从筛选项中选择登记状态。",
    "sharing_attribute": "请从筛选项中选择共享属性。",
    "open_attribute": "请从筛选项中选择开放属性。",
    "channel_kind": "请从筛选项中选择获取方式。",
    "sort": "排序只能是“相关度”或“最新登记”。",
    "evidence_uri": "材料链接应为完整网址，例如 https://example.cn/材料.pdf。",
    "evidence_sha256": "SHA-256 摘要应为 64 位十六进制字符（0–9、a–f）。",
    "request_id": "表单已过期，请刷新页面后重新提交。",
}
_LETTERS = "数字和除 I、O、S、V、Z 以外的英文字母"


def error_text(error: PortalError) -> tuple[str, str]:
    """A page's heading and sentence for an error the visitor cannot fix on the page."""
    title, default = _TITLES.get(error.status, _TITLES[500 if error.status >= 500 else 400])
    if error.field == "code" and error.status == 400:
        return title, code_problem(error.reason, "")
    text = _REASONS.get(error.reason)
    if text is None and error.violations:
        text = field_problem(error.violations[0])
    if text is not None:
        return title, text.format(wait=error.headers.get("Retry-After", "1"))
    return title, default


def field_problem(violation: Violation, limit: int | None = None) -> str:
    """What is wrong with a field, and how to put it right."""
    field = violation.field.replace("evidence[0].", "evidence_")
    name = _FIELDS.get(field, "填写的内容")
    reason = violation.reason
    if reason in _REASONS:
        return _REASONS[reason]
    if reason == "FIELD_REQUIRED":
        return f"请填写{name}。"
    if reason == "FIELD_TOO_LONG":
        return f"{name}最多 {limit} 个字。" if limit else f"{name}太长了。"
    if field == "code":
        return code_problem(reason, "")
    return _SHAPES.get(field, f"{name}的格式不正确。")


def code_problem(reason: str, typed: str) -> str:
    """Why what was typed is not a registration code, and how to read one."""
    if reason == CodeDefect.EMPTY:
        return "请输入登记编号。"
    if reason == CodeDefect.CHECK_MISMATCH:
        return "编号校验不符：可能有字符输错，或相邻两位输颠倒了。请对照确认单逐位核对。"
    return "编号格式不正确：" + _code_shape(reason, typed.strip().upper())


def _code_shape(reason: str, value: str) -> str:
    if reason == CodeDefect.WRONG_LENGTH:
        counted = f"，您输入了 {len(value)} 位" if value else ""
        return f"登记编号有 {codes.CODE_LENGTH} 位{counted}。请对照确认单检查是否漏输或多输。"
    if reason == CodeDefect.BAD_CHARACTER:
        for position, c in enumerate(value, start=1):
            if c not in codes.ALPHABET:
                return f"第 {position} 位“{c}”不会出现在登记编号中，登记编号只用{_LETTERS}。"
    if reason == CodeDefect.UNKNOWN_OBJECT_TYPE:
        return "第 1 位是登记对象类别，只能是 1、2 或 3。"
    if reason == CodeDefect.UNKNOWN_ISSUER:
        return "第 2 至 7 位是登记机构的行政区划代码，您输入的不是省级行政区划代码。"
    if reason == CodeDefect.BAD_YEAR:
        return "第 8、9 位是赋码年份，应为两位数字。"
    if reason == CodeDefect.BAD_SERIAL:
        return "第 10 至 18 位是顺序号，不能全为 0。"
    return f"登记编号共 {codes.CODE_LENGTH} 位，只用{_LETTERS}。"


#: Why a confirmation is not verified, by the reason the portal found.
_VERIFICATION = {
    "NOT_YET_CHECKPOINTED": "国家登记透明日志尚未收录这个编号的检查点（通常在赋码后几秒内完成），"
    "请稍后再查。",
    "NO_LOG_KEY": "本平台未配置国家登记透明日志的公钥，暂时无法验证确认单。",
    "NOT_VERIFIED": "确认单未能通过验证：其签名或证明与国家登记透明日志不符。请勿以此确认单为准。",
    "OTHER_CODE": "确认单所证明的是另一个编号，请勿以此确认单为准。",
    "NATIONAL_UNAVAILABLE": "暂时无法连接国家登记节点取得确认单，请稍后再查。",
}


def verification_problem(reason: str) -> str:
    return _VERIFICATION.get(reason, "未能验证登记确认单，请稍后再查。")
