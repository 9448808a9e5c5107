"""The workspace's words: zh-Hans (default) and English written once, zh-Hant derived with OpenCC,
switched in the page by the publication's ``i18n.js`` (the approach of :mod:`guji.publish.i18n`)."""

from __future__ import annotations

import json
from functools import lru_cache

from guji.publish.i18n import LANGS, script  # noqa: F401 - script: the language switch, inlined by base.html

MESSAGES: dict[str, tuple[str, str]] = {
    "ws.title": ("古籍工作台", "Ancient-books workspace"),
    "ws.records": ("著录审校", "Record review"),
    "ws.proofread": ("文字校对", "Proofreading"),
    "ws.audit": ("操作日志", "Audit log"),
    "ws.logout": ("退出", "Log out"),
    "ws.user": ("用户", "User"),
    "login.title": ("登录", "Log in"),
    "login.name": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码不正确", "Wrong user name or password"),
    "login.throttled": ("登录失败次数过多，请稍后再试", "Too many failed logins; try again later"),
    "list.filter": ("筛选", "Filter"),
    "list.state": ("状态", "State"),
    "list.severity": ("问题", "Findings"),
    "list.all": ("全部", "All"),
    "list.errors": ("有错误", "With errors"),
    "list.warnings": ("有警告", "With warnings"),
    "list.clean": ("无问题", "Clean"),
    "list.item": ("条目", "Item"),
    "list.title": ("题名", "Title"),
    "list.institution": ("收藏单位", "Institution"),
    "list.findings": ("问题", "Findings"),
    "list.none": ("没有可见的条目", "No items to show"),
    "list.search": ("题名、编号……", "Title, number…"),
    "state.draft": ("未提交", "Draft"),
    "state.submitted": ("已提交", "Submitted"),
    "state.returned": ("已退回", "Returned"),
    "state.resubmitted": ("已重新提交", "Resubmitted"),
    "state.approved": ("已通过", "Approved"),
    "rec.original": ("普查原文", "Census strings as entered"),
    "rec.parsed": ("解析结果", "Parsed values"),
    "rec.findings": ("检查结果", "Findings"),
    "rec.no_findings": ("没有问题", "No findings"),
    "rec.images": ("书影", "Page images"),
    "rec.measured": ("实测", "Measured"),
    "rec.lines": ("行款（每半叶行数 × 每行字数）", "Layout (columns per half-leaf × characters per column)"),
    "rec.frame": ("版框（宽 × 高，厘米）", "Frame (w × h, cm)"),
    "rec.juan": ("卷次", "Juan"),
    "rec.leaves": ("叶序", "Leaf order"),
    "rec.field": ("字段", "Field"),
    "rec.value": ("值", "Value"),
    "rec.edit": ("修改", "Edit"),
    "rec.save": ("保存", "Save"),
    "rec.saved": ("已保存", "Saved"),
    "rec.check": ("检查", "Check"),
    "rec.remark": ("退回意见", "Remark"),
    "rec.history": ("审校记录", "Review history"),
    "act.submit": ("提交", "Submit"),
    "act.return": ("退回", "Return"),
    "act.resubmit": ("重新提交", "Resubmit"),
    "act.approve": ("通过", "Approve"),
    "pr.books": ("书目", "Books"),
    "pr.progress": ("已校 {d} / {n} 叶", "{d} of {n} pages proofread"),
    "pr.page": ("叶", "Page"),
    "pr.low": ("低置信度字（点选可看候选字）", "Low-confidence characters (click for alternatives)"),
    "pr.alternatives": ("候选字", "Alternatives"),
    "pr.save": ("保存本叶", "Save page"),
    "pr.edit_line": ("修改本行", "Edit this column"),
    "pr.saved": ("已保存为第 {v} 版", "Saved as version {v}"),
    "pr.version": ("版本", "Version"),
    "pr.machine": ("机器识别", "Machine"),
    "pr.human": ("人工校对", "Human"),
    "pr.no_ocr": ("此叶尚无识别文字", "No OCR text for this page yet"),
    "pr.prev": ("上一叶", "Previous page"),
    "pr.next": ("下一叶", "Next page"),
    "pr.zoom": ("滚轮缩放，拖动平移", "Scroll to zoom, drag to pan"),
    "err.forbidden": ("无权查看或修改此条目", "You may not see or change this item"),
    "err.not_found": ("没有此条目", "No such item"),
    "err.back": ("返回", "Back"),
    "list.code": ("规则代码", "Rule code"),
    "ws.admin": ("账户管理", "Accounts"),
    "ws.account": ("我的账户", "My account"),
    "ws.export": ("导出", "Export"),
    "role.reviewer": ("审校（保护中心）", "Reviewer (centre)"),
    "role.cataloguer": ("编目（收藏单位）", "Cataloguer (library)"),
    "role.proofreader": ("校对（收藏单位）", "Proofreader (library)"),
    "role.admin": ("管理员", "Administrator"),
    "adm.name": ("用户名", "User name"),
    "adm.role": ("角色", "Role"),
    "adm.institution": ("单位（代码或名称）", "Institution (code or name)"),
    "adm.status": ("状态", "Status"),
    "adm.created": ("创建时间", "Created"),
    "adm.actions": ("操作", "Actions"),
    "adm.active": ("启用", "Active"),
    "adm.disabled": ("已停用", "Disabled"),
    "adm.disable": ("停用", "Disable"),
    "adm.enable": ("启用", "Enable"),
    "adm.new_password": ("新密码", "New password"),
    "adm.password": ("初始密码", "Initial password"),
    "adm.reset": ("重设密码", "Reset password"),
    "adm.add_title": ("新增账户", "Add an account"),
    "adm.add": ("新增", "Add"),
    "adm.added": ("账户已新增", "Account added"),
    "adm.saved": ("已保存", "Saved"),
    "adm.no_user": ("没有用户 {name}", "No user {name}"),
    "adm.short_password": ("密码至少 {n} 个字符", "The password must have at least {n} characters"),
    "adm.bad_name": ("用户名不能为空，不能含空格或 / ? # %", "The user name must not be empty nor contain spaces or / ? # %"),
    "adm.no_institution": ("请填写单位", "The institution is required"),
    "adm.exists": ("用户 {name} 已存在", "User {name} exists already"),
    "adm.not_yourself": ("不能停用自己的账户", "You cannot disable your own account"),
    "acct.title": ("修改密码", "Change password"),
    "acct.old": ("原密码", "Current password"),
    "acct.new": ("新密码", "New password"),
    "acct.again": ("再输入一次新密码", "New password again"),
    "acct.change": ("修改", "Change"),
    "acct.changed": ("密码已修改", "Password changed"),
    "acct.wrong_old": ("原密码不正确", "The current password is wrong"),
    "acct.mismatch": ("两次输入的新密码不一致", "The two new passwords differ"),
    "exp.title": ("导出结果", "Export"),
    "exp.summary": ("已写出 {c} 条已通过的著录修改、{p} 叶校对文字", "Wrote {c} approved record corrections and {p} proofread pages"),
    "exp.work": ("工作目录", "Work folder"),
    "exp.corrections": ("已通过的修改", "Approved corrections"),
    "exp.pages": ("已校对的叶", "Proofread pages"),
    "exp.next": ("下次运行 guji run 时即采用这些修改。", "The next guji run takes these corrections into the outputs."),
    "au.when": ("时间", "When"),
    "au.who": ("用户", "Who"),
    "au.action": ("操作", "Action"),
    "au.object": ("对象", "Object"),
    "au.field": ("字段", "Field"),
    "au.before": ("修改前", "Before"),
    "au.after": ("修改后", "After"),
    "au.address": ("地址", "Address"),
}


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    """{lang: {key: text}}: zh-Hant through OpenCC s2tw, as the publication's table."""
    from guji.textfold import convert

    column = {"zh-Hans": lambda hans, en: hans, "zh-Hant": lambda hans, en: convert("s2tw", hans),
              "en": lambda hans, en: en}
    return {lang: {k: column[lang](*v) for k, v in MESSAGES.items()} for lang in LANGS}


def table_json() -> str:
    """The table as JSON that is safe inside <script>."""
    return json.dumps(table(), ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def t(key: str, **kw: object) -> str:
    """The zh-Hans text of ``key`` (the page's default; i18n.js switches it in place)."""
    hans = MESSAGES[key][0] if key in MESSAGES else key
    return hans.format(**kw) if kw else hans
