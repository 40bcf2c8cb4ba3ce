"""Words the templates share (greeting, footer, vocabulary), per language.

The emails' own sentences live in the template files; these are the pieces that
several templates and the unsubscribe page use.
"""

from typing import Final

from crm_shared.contracts.vocabulary import Language

DEFAULT_LANGUAGE: Final = Language.EN

UI: Final[dict[Language, dict[str, str]]] = {
    Language.EN: {
        "brand": "Warm Yang",
        "district": "Yangpu District, Shanghai",
        "desk": "Warm Yang service desk",
        "greeting_named": "Dear {name},",
        "greeting": "Hello,",
        "sign_off": "Kind regards,",
        "why_contact": "You receive this email because your company is in contact with the "
        "Warm Yang service desk of Yangpu District.",
        "why_staff": "You receive this reminder as the account manager of this firm.",
        "unsubscribe": "Unsubscribe from these emails",
        "colon": ": ",
    },
    Language.DE: {
        "brand": "Warm Yang",
        "district": "Bezirk Yangpu, Shanghai",
        "desk": "Warm-Yang-Servicedesk",
        "greeting_named": "Guten Tag {name},",
        "greeting": "Guten Tag,",
        "sign_off": "Mit freundlichen Grüßen",
        "why_contact": "Sie erhalten diese E-Mail, weil Ihr Unternehmen mit dem "
        "Warm-Yang-Servicedesk des Bezirks Yangpu in Kontakt steht.",
        "why_staff": "Sie erhalten diese Erinnerung, weil Sie dieses Unternehmen betreuen.",
        "unsubscribe": "Diese E-Mails abbestellen",
        "colon": ": ",
    },
    Language.ZH: {
        "brand": "Warm Yang",
        "district": "上海市杨浦区",
        "desk": "Warm Yang 服务台",
        "greeting_named": "尊敬的{name}：",
        "greeting": "您好：",
        "sign_off": "此致敬礼",
        "why_contact": "您收到此邮件，是因为贵公司正在与杨浦区 Warm Yang 服务台保持联系。",
        "why_staff": "您作为该企业的客户经理收到此提醒。",
        "unsubscribe": "退订此类邮件",
        "colon": "：",
    },
}

# Labels of closed vocabularies, by kind of label: `{{ value|label("stage") }}`.
LABELS: Final[dict[str, dict[Language, dict[str, str]]]] = {
    "interaction_kind": {
        Language.EN: {
            "call": "call",
            "email": "email",
            "meeting": "meeting",
            "site_visit": "site visit",
            "forum": "forum",
            "training": "training",
            "event": "event",
        },
        Language.DE: {
            "call": "Telefonat",
            "email": "E-Mail",
            "meeting": "Besprechung",
            "site_visit": "Standortbesuch",
            "forum": "Forum",
            "training": "Schulung",
            "event": "Veranstaltung",
        },
        Language.ZH: {
            "call": "电话沟通",
            "email": "邮件往来",
            "meeting": "会面",
            "site_visit": "实地考察",
            "forum": "论坛",
            "training": "培训",
            "event": "活动",
        },
    },
    # What one thanks somebody for: English and German need the article, Chinese the verb.
    "thanks_for": {
        Language.EN: {
            "call": "the call",
            "email": "your email",
            "meeting": "the meeting",
            "site_visit": "the site visit",
            "forum": "attending our forum",
            "training": "attending our training",
            "event": "attending our event",
        },
        Language.DE: {
            "call": "das Telefonat",
            "email": "Ihre E-Mail",
            "meeting": "die Besprechung",
            "site_visit": "den Standortbesuch",
            "forum": "Ihre Teilnahme an unserem Forum",
            "training": "Ihre Teilnahme an unserer Schulung",
            "event": "Ihre Teilnahme an unserer Veranstaltung",
        },
        Language.ZH: {
            "call": "与我们通电话",
            "email": "给我们来信",
            "meeting": "与我们会面",
            "site_visit": "参加实地考察",
            "forum": "参加我们的论坛",
            "training": "参加我们的培训",
            "event": "参加我们的活动",
        },
    },
    "stage": {
        Language.EN: {
            "first_contact": "first contact",
            "qualified": "qualified",
            "engaged": "engaged",
            "negotiating": "negotiating",
            "landed": "landed",
            "established_partnership": "established partnership",
        },
        Language.DE: {
            "first_contact": "Erstkontakt",
            "qualified": "qualifiziert",
            "engaged": "in Zusammenarbeit",
            "negotiating": "in Verhandlung",
            "landed": "angesiedelt",
            "established_partnership": "etablierte Partnerschaft",
        },
        Language.ZH: {
            "first_contact": "初次接触",
            "qualified": "需求已明确",
            "engaged": "深入接洽",
            "negotiating": "谈判中",
            "landed": "已落户",
            "established_partnership": "长期合作伙伴",
        },
    },
    "status": {
        Language.EN: {
            "active": "active",
            "on_hold": "on hold",
            "dormant": "dormant",
            "lost": "lost",
            "withdrawn": "withdrawn",
        },
        Language.DE: {
            "active": "aktiv",
            "on_hold": "pausiert",
            "dormant": "ruhend",
            "lost": "verloren",
            "withdrawn": "zurückgezogen",
        },
        Language.ZH: {
            "active": "活跃",
            "on_hold": "暂停",
            "dormant": "休眠",
            "lost": "已流失",
            "withdrawn": "已撤回",
        },
    },
}

# The unsubscribe page (GET asks, POST confirms).
PAGE: Final[dict[Language, dict[str, str]]] = {
    Language.EN: {
        "title": "Unsubscribe",
        "question": "Do you want to stop receiving follow-up emails from the Warm Yang "
        "service desk?",
        "button": "Unsubscribe",
        "done_title": "You are unsubscribed",
        "done": "You will receive no more follow-up emails from us. If this was a mistake, "
        "please tell your contact person at the service desk.",
        "expired": "This unsubscribe link has expired. Please use the link in a more recent "
        "email, or tell your contact person at the service desk.",
        "invalid": "This unsubscribe link is not valid.",
    },
    Language.DE: {
        "title": "Abbestellen",
        "question": "Möchten Sie keine weiteren E-Mails des Warm-Yang-Servicedesks erhalten?",
        "button": "Abbestellen",
        "done_title": "Sie haben die E-Mails abbestellt",
        "done": "Sie erhalten von uns keine weiteren Folge-E-Mails. Falls das ein Versehen war, "
        "wenden Sie sich bitte an Ihre Ansprechperson beim Servicedesk.",
        "expired": "Dieser Abbestell-Link ist abgelaufen. Bitte verwenden Sie den Link in einer "
        "neueren E-Mail oder wenden Sie sich an Ihre Ansprechperson beim Servicedesk.",
        "invalid": "Dieser Abbestell-Link ist ungültig.",
    },
    Language.ZH: {
        "title": "退订",
        "question": "您是否不再希望收到 Warm Yang 服务台的跟进邮件？",
        "button": "退订",
        "done_title": "您已成功退订",
        "done": "您将不再收到我们的跟进邮件。如属误操作，请联系服务台的对接人。",
        "expired": "此退订链接已过期。请使用较新邮件中的链接，或联系服务台的对接人。",
        "invalid": "此退订链接无效。",
    },
}


def language_or_default(value: str | None) -> Language:
    try:
        return Language(value) if value else DEFAULT_LANGUAGE
    except ValueError:
        return DEFAULT_LANGUAGE
