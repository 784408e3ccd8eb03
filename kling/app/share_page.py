"""What a shared link shows: the small HTML page at /clip/<id> (with the Open Graph and Twitter tags
chat apps and social sites unfurl), the gallery's cards, and the absolute links both carry.

Pure functions of a resolved share (kling.store.sharing.SharedClip): every visitor's word (the
prompt, the negative prompt) is HTML-escaped where it lands, attribute or text.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from kling.app.views import SHARED_SETTINGS, share_link
from kling.config import Settings
from kling.store.sharing import SharedClip
from kling.strings import Lang, say

VIDEO, POSTER = "video.mp4", "poster.jpg"
IMAGE_NAMES = {".png": "image.png", ".jpg": "image.jpg", ".jpeg": "image.jpg", ".webp": "image.webp"}
SHARED_QUERY = "shared"  # the page's query names the share whose start image fills the form


def public_base(settings: Settings, page_url: str = "") -> str:
    """Where links point: KLING_PUBLIC_URL, else the Space's own host, else `page_url` (the owner's
    own browser's address, for the link it shows them), else "" (links relative to the page).

    Never a request's Host header: anyone can write one, and a shared page must not point at it."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if settings.on_space and settings.space_host:
        return f"https://{settings.space_host}"
    return page_url.rstrip("/")


def unfurl_note(settings: Settings) -> str | None:
    """What the log says once when shared pages can only carry relative links."""
    if public_base(settings):
        return None
    return (
        "Shared links (/clip/<id>) use relative addresses: chat apps and social sites unfurl them only "
        "with absolute ones. Set KLING_PUBLIC_URL to this app's public address to have them."
    )


def clip_url(base: str, share_id: str, name: str = "") -> str:
    return f"{base}/clip/{quote(share_id)}" + (f"/{name}" if name else "")


def try_link(base: str, clip: SharedClip) -> str | None:
    """The Space's page with the clip's tab filled in (image-to-video: with its start image too);
    None for a film, which has no one set of settings."""
    recipe = clip.recipe
    if clip.film or not recipe.model:
        return None
    tab = "i2v" if recipe.model.endswith("i2v-master") else "t2v"
    values = {
        "prompt": recipe.prompt,
        "negative_prompt": recipe.negative_prompt,
        "guidance_scale": recipe.guidance_scale,
        "aspect_ratio": recipe.aspect_ratio,
        "duration": recipe.duration,
    }
    link = share_link(base + "/", tab, {name: values[name] for name in SHARED_SETTINGS[tab]})
    if tab == "i2v" and clip.image is not None:
        link += f"&{SHARED_QUERY}={quote(clip.share.id)}"
    return link


def title_of(clip: SharedClip, lang: Lang) -> str:
    if clip.film:
        return say(lang, "share.film", clips=len(clip.recipe.clips)) + ": " + clip.share.title
    return clip.recipe.prompt or clip.share.title


def description_of(clip: SharedClip, lang: Lang) -> str:
    """Model and settings in one line, for og:description."""
    recipe = clip.recipe
    parts = [recipe.model] if recipe.model else []
    if recipe.duration:
        parts.append(say(lang, "share.label.seconds", seconds=recipe.duration))
    if recipe.aspect_ratio:
        parts.append(recipe.aspect_ratio)
    if recipe.guidance_scale is not None:
        parts.append(f"{say(lang, 'share.label.guidance')} {recipe.guidance_scale:g}")
    parts.append(say(lang, "share.preview") if recipe.preview else say(lang, "share.made_with"))
    return " · ".join(parts)


def meta_tags(clip: SharedClip, base: str, lang: Lang) -> list[str]:
    page, video = clip_url(base, clip.share.id), clip_url(base, clip.share.id, VIDEO)
    poster = clip_url(base, clip.share.id, POSTER)
    (width, height), (poster_width, poster_height) = clip.size, clip.poster_size
    title, description = title_of(clip, lang), description_of(clip, lang)
    properties = [
        ("og:type", "video.other"),
        ("og:site_name", "Kling Studio"),
        ("og:title", title),
        ("og:description", description),
        ("og:url", page),
        ("og:image", poster),
        ("og:image:type", "image/jpeg"),
        ("og:image:width", str(poster_width)),
        ("og:image:height", str(poster_height)),
        ("og:video", video),
        ("og:video:type", "video/mp4"),
        ("og:video:width", str(width)),
        ("og:video:height", str(height)),
    ]
    if video.startswith("https://"):
        properties.append(("og:video:secure_url", video))
    names = [
        ("twitter:card", "summary_large_image"),
        ("twitter:title", title),
        ("twitter:description", description),
        ("twitter:image", poster),
    ]
    tags = [f'<meta property="{name}" content="{escape(value)}">' for name, value in properties]
    return tags + [f'<meta name="{name}" content="{escape(value)}">' for name, value in names]


def settings_rows(clip: SharedClip, lang: Lang) -> str:
    recipe = clip.recipe
    rows = [
        ("share.label.model", recipe.model),
        ("share.label.duration", say(lang, "share.label.seconds", seconds=recipe.duration) if recipe.duration else ""),
        ("share.label.aspect", recipe.aspect_ratio),
        ("share.label.guidance", f"{recipe.guidance_scale:g}" if recipe.guidance_scale is not None else ""),
        ("share.label.negative", recipe.negative_prompt),
        ("share.label.made", recipe.made),
    ]
    cells = [f"<dt>{escape(say(lang, key))}</dt><dd>{escape(value)}</dd>" for key, value in rows if value]
    return "<dl>" + "".join(cells) + "</dl>"


_STYLE = """body{font-family:system-ui,sans-serif;max-width:860px;margin:1.5rem auto;padding:0 1rem;color:#1f2937}
video{width:100%;max-height:70vh;background:#000;border-radius:8px}h1{font-size:1.2rem;line-height:1.4}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#6b7280}dd{margin:0}
.preview{background:#fef3c7;padding:.5rem .8rem;border-radius:6px}.try{display:inline-block;margin-top:1rem;
padding:.5rem 1rem;background:#4f46e5;color:#fff;border-radius:6px;text-decoration:none}"""


def clip_page(clip: SharedClip, base: str, lang: Lang) -> str:
    """The whole HTML page of a shared clip."""
    share_id, title = clip.share.id, title_of(clip, lang)
    video, poster = clip_url(base, share_id, VIDEO), clip_url(base, share_id, POSTER)
    made = (
        f'<p class="preview">{escape(say(lang, "share.preview"))}</p>'
        if clip.recipe.preview
        else f'<p class="made">{escape(say(lang, "share.made_with"))}</p>'
    )
    link = try_link(base, clip)
    button = f'<a class="try" href="{escape(link)}">{escape(say(lang, "share.try"))}</a>' if link else ""
    head = "\n".join(meta_tags(clip, base, lang))
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
{head}
<style>{_STYLE}</style></head>
<body><video id="clip" controls playsinline loop preload="metadata" poster="{escape(poster)}"
 width="{clip.size[0]}" height="{clip.size[1]}"><source src="{escape(video)}" type="video/mp4"></video>
<h1 id="prompt">{escape(title)}</h1>
{made}
{settings_rows(clip, lang)}
{button}
</body></html>
"""


def gallery_html(clips: list[SharedClip], base: str, lang: Lang) -> str:
    """The Shared tab's grid: poster, prompt (on hover and below), a click plays, "Try these settings"."""
    if not clips:
        return f"<p>{escape(say(lang, 'share.gallery_empty'))}</p>"
    cards = []
    for clip in clips:
        share_id, title = clip.share.id, title_of(clip, lang)
        link = try_link(base, clip)
        try_it = f'<a href="{escape(link)}" target="_top">{escape(say(lang, "share.try"))}</a>' if link else ""
        cards.append(
            f'<figure class="kling-shared-card" data-share="{escape(share_id)}">'
            f'<video controls playsinline preload="none" title="{escape(title)}"'
            f' poster="{escape(clip_url(base, share_id, POSTER))}" src="{escape(clip_url(base, share_id, VIDEO))}">'
            f'</video><figcaption title="{escape(title)}">{escape(title)}</figcaption>'
            f'<a href="{escape(clip_url(base, share_id))}" target="_blank" rel="noopener">🔗</a> {try_it}</figure>'
        )
    return '<div class="kling-shared-grid">' + "".join(cards) + "</div>"
