"""Every word the page says, in English and Simplified Chinese: one table each, keys to whole sentences.

Two kinds of text, one place:
- `PAGE`: the page's fixed text (tabs, labels, buttons, help). It goes to the browser as Gradio 6's
  `gr.I18n` keys (`text(key)`), and Gradio picks the language from the browser's (English otherwise).
- `SAY`: what handlers write (banners, the price line, status stages, refusals, History, the Prompt
  Lab, the showcase). Formatted here with `say(lang, key, **values)` in the language the browser
  asked for (`language(request)`: the first tag of its Accept-Language header, as the browser's
  `navigator.language` is what Gradio reads); each entry is a whole sentence with named slots, so
  no sentence is glued from translated pieces.

The command line and the API speak English: a caller without a browser language (gradio_client,
MCP, curl) gets English, and scripts that parse the text keep working. The model page's example
prompts (kling/examples.py) are the docs' own words and are not translated.
"""

from __future__ import annotations

import html
import re
from functools import cache
from string import Formatter
from typing import TYPE_CHECKING, Any

from kling.api.params import PROMPT_MAX_CHARS

if TYPE_CHECKING:  # gradio is imported where the page is built: the command line never needs it
    import gradio as gr
    from gradio.i18n import I18nData

Lang = str  # "en" or "zh"
LANGS = ("en", "zh")
LETTERS = "ABCD"  # the Prompt Lab's variants (kling.jobs.lab.LETTERS)

# -- the page's fixed text -------------------------------------------------------------------------

SIGN_IN_REFUSAL = (
    "This Space's key is for visitors signed in with Hugging Face: sign in, or add your own WaveSpeed key "
    'under "Your API key". Nothing was sent.'
)


_MARKUP = re.compile(r"[\\`*_{}\[\]()#+\-.!|<>&~=:$\"'^%@/]")


def literal(text: object) -> str:
    """A visitor's own text (a prompt, a label made from one) for a Markdown component, shown as
    the text it is: each character Markdown or HTML would act on becomes a numeric character
    reference, which both display as that character and never parse as markup, so
    `![t](http://host/x.png)` shows as typed and fetches nothing. Whitespace runs become one space
    (an indented line would otherwise be a code block, which shows references undecoded)."""
    flat = " ".join(str(text).split())
    return _MARKUP.sub(lambda found: f"&#{ord(found.group())};", flat)


def toast_text(text: object) -> str:
    """A visitor's own text inside a gr.Error or gr.Warning, which the browser shows as HTML: `<`,
    `>` and `&` escaped, so a typed `<img src=//host/t.png>` is shown, not fetched."""
    return html.escape(str(text), quote=False)


PAGE_EN: dict[str, str] = {
    "heading": "# 🎬 Kling Studio\nKling v2.0 master image-to-video and text-to-video through the WaveSpeed API.",
    "sign_in": "Sign in with Hugging Face",
    "key.title": "Your API key",
    "key.label": "WaveSpeed API key",
    "key.help": "Kept in this browser only (local storage); sent to this server only while a generation runs.",
    "key.save": "Save in this browser",
    "key.clear": "Clear",
    "tab.i2v": "Image to Video",
    "tab.t2v": "Text to Video",
    "tab.lab": "Prompt Lab",
    "tab.history": "History",
    "tab.shared": "Shared",
    "tab.usage": "Usage",
    "usage.help": (
        "Only this Space's administrators (KLING_ADMINS) see this tab. Figures come from the journal; "
        "the balance is read when the tab opens."
    ),
    "usage.refresh": "Refresh",
    "usage.plot.spend": "Spent per day (UTC) against the daily budget, US dollars",
    "usage.plot.hourly": "Tasks per hour, last 48 hours (UTC)",
    "usage.plot.failures": "Failed tasks by reason, last 30 days (refunded)",
    "usage.plot.finish": "Minutes from submit to saved clip, completed tasks",
    "form.start_image": "Start image",
    "form.end_image": "End image (optional)",
    "form.prompt": "Prompt",
    "form.i2v_placeholder": "What happens, and how the camera moves",
    "form.t2v_placeholder": "The scene, the action and the camera",
    "form.negative": "Negative prompt",
    "form.negative_placeholder": "What to avoid",
    "form.brief": "Director's brief",
    "form.compose": "Compose the prompt",
    "prompt_help.style": "Style",
    "prompt_help.improve": "✨ Improve prompt",
    "prompt_help.price_live": "$0.001 a call, WaveSpeed's prompt optimizer; your prompt stays until you choose",
    "prompt_help.price_preview": "Free in preview: a simulated suggestion ($0.001 a call with a key)",
    "prompt_help.suggestion": "Suggestion",
    "prompt_help.use": "Use this prompt",
    "prompt_help.back": "Back to mine",
    "prompt_help.style_default": "Default",
    "prompt_help.style_artistic": "Artistic",
    "prompt_help.style_photographic": "Photographic",
    "prompt_help.style_technical": "Technical",
    "prompt_help.style_anime": "Anime",
    "prompt_help.style_realistic": "Realistic",
    "brief.subject": "Subject action",
    "brief.subject_hint": "what the main subject does over time (smile, turn, wave, stand up, walk)",
    "brief.environment": "Environment motion",
    "brief.environment_hint": "wind in trees, dust, rain, fog, drifting particles",
    "brief.camera": "Camera motion",
    "brief.camera_hint": "slow push-in, orbit, gentle pan, steady handheld feel",
    "brief.continuity": "Continuity",
    "brief.continuity_hint": "keep identity, outfit and scene layout consistent; land on the end frame",
    "move.push_in": "Slow push-in",
    "move.orbit": "Orbit",
    "move.pan": "Gentle pan",
    "move.handheld": "Handheld micro-shake",
    "form.advanced": "Advanced",
    "form.guidance": "Guidance scale",
    "form.guidance_help": "How literally the clip follows the prompt: lower is more natural, higher is more literal.",
    "form.duration": "Duration (seconds)",
    "form.aspect_ratio": "Aspect ratio",
    "run.generate": "Generate",
    "run.stop": "Stop waiting",
    "result.ready": "Ready.",
    "result.copy_link": "Copy link to these settings",
    "result.link_placeholder": "the link (no key, no images) appears here",
    "result.continue": "Continue from the last frame",
    "share.button": "Share",
    "share.stop": "Stop sharing",
    "share.link": "Link to share (anyone with it can watch)",
    "share.gallery_help": "The newest clips visitors of this Space shared. Click one to play it.",
    "share.gallery_load": "Refresh",
    "examples.starters": "Examples: a sample photo and a prompt written for it (click to fill the form)",
    "examples.page_prompts": "Prompts from the model page, to use with your own photo (click to fill the prompt)",
    "examples.t2v": "Examples from the model page (click to fill the form)",
    "showcase.note": (
        "🎬 Examples marked 🎬 come with the clip Kling made for them, paid for once by this Space's owner: "
        "click one to watch it, free."
    ),
    "showcase.note_preview": (
        "🎬 Examples marked 🎬 come with the clip Kling made for them, paid for once by this Space's owner: "
        "click one to watch it, free. This Space is in preview mode (no API key): these are the only real "
        "Kling clips on this page; what Generate makes here is simulated and marked PREVIEW."
    ),
    "lab.help": (
        "Run 2 to 4 variants of one idea at once and compare them side by side. Each variant is a "
        "normal task (it is in History, and it is billed like any other)."
    ),
    "lab.model": "Model",
    "lab.variants": "Variants",
    "lab.i2v": "Image to Video",
    "lab.t2v": "Text to Video",
    "lab.shared_image": "Start image (shared by every variant)",
    "lab.run": "Run all variants",
    "lab.play_all": "▶ Play all from the start",
    "lab.use": "Use this one",
    "lab.idea": "One idea",
    "lab.idea_placeholder": "A few words are enough: each variant writes it out in a different style",
    "lab.write": "✨ Write variants",
    "lab.write_help": (
        "One prompt optimizer call per variant ($0.001 each; free and "
        "simulated in preview). Nothing runs until you press Run."
    ),
    "history.help": "This browser's tasks, newest first. Select a row to see its clip and settings.",
    "history.clip": "Clip",
    "history.select": "Select a row to see its clip and settings.",
    "history.use_settings": "Use these settings",
    "history.resume": "Resume",
    "history.refresh": "Refresh",
    "history.resume_id": "Resume any task id",
    "history.resume_id_placeholder": "an id from the CLI or WaveSpeed's dashboard",
    "history.resume_typed": "Resume this id",
    "stitch.help": (
        "### 🎞️ Stitch clips into a film\n\nPick this browser's clips in the order they should play, then "
        "Stitch: one MP4, saved here and listed below. Free: nothing is sent to WaveSpeed. Clips of one "
        "size and frame rate are joined as they are; otherwise (or with a cross-fade) they are re-encoded "
        "to the first clip's size, with black bars rather than stretching. Preview clips stay marked PREVIEW."
    ),
    "stitch.clips": "Clips, in the order they play",
    "stitch.clips_help": "This browser's finished clips; pick two or more.",
    "stitch.crossfade": "Cross-fade (seconds)",
    "stitch.go": "Stitch",
    "stitch.film": "Film",
    "stitch.films": "Your films",
    "stitch.films_help": "Newest first; pick one to watch.",
    "stitch.none": "No films yet.",
    "guide.title": "How to prompt",
    "guide.text": (
        "Write the prompt like a director's brief:\n"
        "- **Subject action**: what the main subject does over time (smile, turn, wave, stand up, walk)\n"
        "- **Environment motion**: wind in trees, dust, rain, fog, drifting particles\n"
        "- **Camera motion**: slow push-in, orbit, gentle pan, steady handheld feel\n"
        "- **Continuity rules**: keep identity, outfit, and scene layout consistent; if using end_image, ensure "
        'the motion "lands" on that end frame naturally'
    ),
}
PAGE_EN["form.count"] = f"0 / {PROMPT_MAX_CHARS} characters"
for _letter in LETTERS:
    PAGE_EN[f"lab.prompt_{_letter}"] = f"Variant {_letter}: prompt"
    PAGE_EN[f"lab.clip_{_letter}"] = f"Variant {_letter}"

PAGE_ZH: dict[str, str] = {
    "heading": "# 🎬 Kling Studio\n通过 WaveSpeed API 使用可灵 Kling v2.0 master 图生视频与文生视频。",
    "sign_in": "使用 Hugging Face 登录",
    "key.title": "你的 API 密钥",
    "key.label": "WaveSpeed API 密钥",
    "key.help": "只保存在本浏览器中（本地存储）；仅在生成进行时发送到本服务器。",
    "key.save": "保存在本浏览器",
    "key.clear": "清除",
    "tab.i2v": "图生视频",
    "tab.t2v": "文生视频",
    "tab.lab": "提示词实验室",
    "tab.history": "历史记录",
    "tab.shared": "分享",
    "tab.usage": "用量",
    "usage.help": "只有本 Space 的管理员（KLING_ADMINS）能看到此标签页。数据来自任务日志；打开此标签页时读取余额。",
    "usage.refresh": "刷新",
    "usage.plot.spend": "每日花费（UTC）与每日预算对比，单位美元",
    "usage.plot.hourly": "每小时任务数，最近 48 小时（UTC）",
    "usage.plot.failures": "按原因统计的失败任务，最近 30 天（已退款）",
    "usage.plot.finish": "从提交到保存视频的分钟数，已完成的任务",
    "form.start_image": "起始图片",
    "form.end_image": "结束图片（可选）",
    "form.prompt": "提示词",
    "form.i2v_placeholder": "画面中发生什么，镜头如何运动",
    "form.t2v_placeholder": "场景、动作与镜头",
    "form.negative": "负面提示词",
    "form.negative_placeholder": "想要避免的内容",
    "form.brief": "导演简报",
    "form.compose": "组合成提示词",
    "prompt_help.style": "风格",
    "prompt_help.improve": "✨ 优化提示词",
    "prompt_help.price_live": "每次 $0.001，WaveSpeed 提示词优化器；在你选择之前，你的提示词保持不变",
    "prompt_help.price_preview": "预览模式免费：模拟的建议（使用密钥时每次 $0.001）",
    "prompt_help.suggestion": "建议",
    "prompt_help.use": "使用这个提示词",
    "prompt_help.back": "换回我的",
    "prompt_help.style_default": "默认",
    "prompt_help.style_artistic": "艺术",
    "prompt_help.style_photographic": "摄影",
    "prompt_help.style_technical": "技术",
    "prompt_help.style_anime": "动漫",
    "prompt_help.style_realistic": "写实",
    "brief.subject": "主体动作",
    "brief.subject_hint": "主体随时间做什么（微笑、转身、挥手、起身、行走）",
    "brief.environment": "环境运动",
    "brief.environment_hint": "树间的风、尘土、雨、雾、飘动的粒子",
    "brief.camera": "镜头运动",
    "brief.camera_hint": "缓慢推近、环绕、轻柔平移、稳定的手持感",
    "brief.continuity": "连贯性",
    "brief.continuity_hint": "保持人物身份、服装与场景布局一致；自然地落在结束画面上",
    "move.push_in": "缓慢推近",
    "move.orbit": "环绕",
    "move.pan": "轻柔平移",
    "move.handheld": "手持微晃",
    "form.advanced": "高级",
    "form.guidance": "引导强度",
    "form.guidance_help": "视频遵循提示词的程度：越低越自然，越高越贴合字面。",
    "form.duration": "时长（秒）",
    "form.aspect_ratio": "画面比例",
    "run.generate": "生成",
    "run.stop": "停止等待",
    "result.ready": "就绪。",
    "result.copy_link": "复制此设置的链接",
    "result.link_placeholder": "链接（不含密钥和图片）会显示在这里",
    "result.continue": "从最后一帧继续",
    "share.button": "分享",
    "share.stop": "停止分享",
    "share.link": "分享链接(任何拿到链接的人都能观看)",
    "share.gallery_help": "本 Space 访客最新分享的视频。点击即可播放。",
    "share.gallery_load": "刷新",
    "examples.starters": "示例：一张样例照片和为它写的提示词（点击填入表单）",
    "examples.page_prompts": "模型页面上的提示词，可配合你自己的照片使用（点击填入提示词）",
    "examples.t2v": "模型页面上的示例（点击填入表单）",
    "showcase.note": "🎬 标有 🎬 的示例附带可灵为其生成的视频，由本 Space 的所有者付费生成一次：点击即可免费观看。",
    "showcase.note_preview": (
        "🎬 标有 🎬 的示例附带可灵为其生成的视频，由本 Space 的所有者付费生成一次：点击即可免费观看。"
        "本 Space 处于预览模式（没有 API 密钥）：这些是本页上仅有的真实可灵视频；在这里点击“生成”得到的是"
        "模拟视频，并标有 PREVIEW。"
    ),
    "lab.help": (
        "同时运行一个想法的 2 到 4 个变体，并排比较。每个变体都是一个普通任务（会出现在历史记录中，并照常计费）。"
    ),
    "lab.model": "模型",
    "lab.variants": "变体数量",
    "lab.i2v": "图生视频",
    "lab.t2v": "文生视频",
    "lab.shared_image": "起始图片（所有变体共用）",
    "lab.run": "运行全部变体",
    "lab.play_all": "▶ 全部从头播放",
    "lab.use": "使用这个",
    "lab.idea": "一个想法",
    "lab.idea_placeholder": "几个词就够了：每个变体会以不同的风格把它写完整",
    "lab.write": "✨ 写出变体",
    "lab.write_help": (
        "每个变体调用一次提示词优化器（每次 $0.001；预览模式免费且为模拟）。在你按下运行之前，不会运行任何内容。"
    ),
    "history.help": "本浏览器的任务，最新的在前。选择一行即可查看其视频和设置。",
    "history.clip": "视频",
    "history.select": "选择一行即可查看其视频和设置。",
    "history.use_settings": "使用这些设置",
    "history.resume": "恢复",
    "history.refresh": "刷新",
    "history.resume_id": "恢复任意任务 ID",
    "history.resume_id_placeholder": "来自命令行或 WaveSpeed 控制台的 ID",
    "history.resume_typed": "恢复此 ID",
    "stitch.help": (
        "### 🎞️ 将视频拼接成影片\n\n按播放顺序选择本浏览器的视频，然后点击“拼接”：得到一个 MP4，保存在这里并列在下方。"
        "免费：不会向 WaveSpeed 发送任何内容。尺寸和帧率相同的视频直接连接；"
        "否则（或使用交叉淡化时）会按第一个视频的尺寸重新编码，加黑边而不拉伸。预览视频仍标有 PREVIEW。"
    ),
    "stitch.clips": "视频（按播放顺序）",
    "stitch.clips_help": "本浏览器已完成的视频；请选择两个或更多。",
    "stitch.crossfade": "交叉淡化（秒）",
    "stitch.go": "拼接",
    "stitch.film": "影片",
    "stitch.films": "你的影片",
    "stitch.films_help": "最新的在前；选择一部观看。",
    "stitch.none": "还没有影片。",
    "guide.title": "如何写提示词",
    "guide.text": (
        "像写导演简报一样写提示词：\n"
        "- **主体动作**：主体随时间做什么（微笑、转身、挥手、起身、行走）\n"
        "- **环境运动**：树间的风、尘土、雨、雾、飘动的粒子\n"
        "- **镜头运动**：缓慢推近、环绕、轻柔平移、稳定的手持感\n"
        "- **连贯规则**：保持人物身份、服装和场景布局一致；如果使用结束图片（end_image），让动作自然地“落”在结束画面上"
    ),
}
PAGE_ZH["form.count"] = f"0 / {PROMPT_MAX_CHARS} 个字符"
for _letter in LETTERS:
    PAGE_ZH[f"lab.prompt_{_letter}"] = f"变体 {_letter}：提示词"
    PAGE_ZH[f"lab.clip_{_letter}"] = f"变体 {_letter}"

# -- what handlers write ---------------------------------------------------------------------------

SAY_EN: dict[str, str] = {
    # the mode banner
    "banner.own_key": "🟢 **Live (WaveSpeed API), with your own key**: clips are billed to your WaveSpeed account.",
    "banner.own_key_unchecked": (
        "🟠 **Your key is saved but not checked**: WaveSpeed could not be reached to check it, so it is not"
        " known to work yet. Save it again to check it now; Generate checks it too (a refused key is charged nothing)."
    ),
    "banner.preview": (
        "🟡 **Preview: clips are simulated locally, no API key set.** They are stand-ins marked PREVIEW, "
        "not Kling output. Add your own WaveSpeed key below to generate for real."
    ),
    "banner.bring_key": (
        "🟢 **Live (WaveSpeed API)**: every clip is a paid Kling v2.0 master generation. "
        "This Space asks you to bring your own key (below)."
    ),
    "banner.limits": (
        "🟢 **Live (WaveSpeed API)**: every clip is a paid Kling v2.0 master generation. "
        "Limits for this Space's key: {per_hour} clips per hour per visitor."
    ),
    "banner.limits_budget": (
        "🟢 **Live (WaveSpeed API)**: every clip is a paid Kling v2.0 master generation. "
        "Limits for this Space's key: {per_hour} clips per hour per visitor; {left} of today's {budget} budget left."
    ),
    # the key panel
    "key.server_has": "This Space has its own key (never shown).",
    "key.server_none": "This Space has no key of its own.",
    "key.saved": "Your key ending in `{last4}` is saved in this browser and is used for your generations.",
    "usage.today": "**Today (UTC):** {spent} spent of a {budget} daily budget: **{left} left**.",
    "usage.today_no_budget": "**Today (UTC):** {spent} spent; no daily budget is set (KLING_DAILY_BUDGET_USD).",
    "usage.balance": "**Balance:** {balance}, {clips} clips of 5 s.",
    "usage.balance_low": "**Balance:** {balance}, below one 5 s clip: top up at {url}.",
    "usage.balance_unread": "**Balance:** could not be read ({reason}).",
    "usage.preview": "Preview mode: no WAVESPEED_API_KEY, nothing is spent.",
    "usage.credit": "**Refused for credit** at {when} UTC (balance then {balance}): top up at {url}.",
    "usage.schema": "**WaveSpeed's live schema and price:** {summary}",
    "key.saved_balance": (
        "Your key ending in `{last4}` is saved in this browser and is used for your generations. "
        "WaveSpeed accepted it; balance **{balance}**."
    ),
    "key.none": "No key saved in this browser.",
    "key.saved_unchecked": (
        "⚠️ Your key ending in `{last4}` is saved in this browser but **not checked**: WaveSpeed could not be reached."
    ),
    "key.refused": "❌ **WaveSpeed refused that key (401)**, so it was not saved.",
    "key.paste_first": "Paste a WaveSpeed API key first.",
    "key.unchecked": "Could not check the key with WaveSpeed just now; it is saved, and checked on Generate.",
    # the price line and the clip's label
    "price.preview": (
        "Free preview here (simulated). Live: **{price}** for {seconds} s, usually takes a few minutes. "
        "[Get a WaveSpeed key]({url})"
    ),
    "price.live": "Live: **{price}** for {seconds} s, usually takes a few minutes. [Get a WaveSpeed key]({url})",
    "video.preview": "Preview clip (simulated, not Kling output)",
    "video.live": "Kling v2.0 master clip",
    # a run
    "stage.validating": "Checking the input",
    "stage.uploading": "Uploading the image",
    "stage.submitting": "Submitting the task",
    "stage.recovering": "Looking for the task",
    "stage.submitted": "Task created",
    "stage.created": "Queued at WaveSpeed",
    "stage.created_preview": "Queued (simulated)",
    "stage.processing": "Generating",
    "stage.completed": "Finished",
    "stage.retrying": "Status check failed, retrying",
    "stage.downloading": "Downloading the clip",
    "stage.done": "Done",
    "stage.error": "Failed",
    "status.undocumented": "status {status}, not documented: still waiting",
    "status.failed": "### ❌ Failed after {elapsed}",
    "status.refunded": (
        "WaveSpeed refunds a failed task: the {price} comes back to your WaveSpeed balance, usually within a few hours."
    ),
    "status.failed_free": "Preview: nothing was charged.",
    "status.done": "### ✅ Done in {elapsed}",
    "status.running": "### ⏳ {words} · {elapsed}",
    "status.task": "Task `{task_id}` · {polls} status checks",
    "status.task_status": "Task `{task_id}` · status **{status}** · {polls} status checks",
    "task_status.created": "created",
    "task_status.processing": "processing",
    "task_status.completed": "completed",
    "task_status.failed": "failed",
    "status.preview": "_Preview: simulated locally, not Kling output._",
    "estimate": (
        "Estimated progress {bar} {percent}% (an estimate, not a measurement: "
        "a {seconds} s clip typically takes about {about})"
    ),
    "estimate.seconds": "{n} s",
    "estimate.minutes": "{n} min",
    "busy": "Generating… {elapsed}",
    "details.task_id": "Task id",
    "details.model": "Model",
    "details.inference": "Inference time",
    "details.inference_value": "{seconds} s",
    "details.nsfw": "NSFW flag",
    "details.flagged": "⚠️ flagged",
    "details.not_flagged": "not flagged",
    "details.output_url": "Output URL",
    "details.no_url": "none: simulated locally",
    "details.url_kept": "{url} (kept 7 days)",
    "details.price": "Price",
    "details.free": "free (preview)",
    "stop.no_task": "Stopped. No task had been created yet, so nothing was sent or charged.",
    "stop.preview": (
        "### ⏹ Stopped waiting\n\nTask `{task_id}` is running in the background (a free, simulated preview). "
        "Its clip is saved when it finishes: it shows here, and in the History tab."
    ),
    "stop.live": (
        "### ⏹ Stopped waiting\n\nTask `{task_id}` is running in the background at WaveSpeed, and is still billed. "
        "Its clip is saved when it finishes: it shows here, and in the History tab."
    ),
    "background.done": "### ✅ Done in the background\n\nTask `{task_id}`: its clip is saved (and in History).",
    "background.ended": "### ❌ Task `{task_id}`: {status}",
    # a reloaded page: the visitor's task back in its tab (kling.app.tabs.comeback)
    "comeback.note": "_Back after a reload: this task was already under way. Nothing was sent or charged again._",
    "comeback.done": "### ✅ Done in {elapsed}\n\nTask `{task_id}`: its clip is saved (and in History).",
    "comeback.task": "Task `{task_id}` · status **{status}**",
    # refusals (the English of a refusal is kling.api.params' own, which the API and the CLI give)
    "refusal": "Not sent, nothing was charged. {problems}",
    "refusal.title": "Check the input",
    "refusal.lab_title": "Check the variants",
    "refusal.limit_title": "Limit reached",
    "refusal.sign_in_title": "Sign in first",
    "refusal.failed_title": "The generation failed",
    "problem": "{field}: {message}",
    "problem.required_prompt": "required; describe the video you want",
    "problem.improve_empty": "write a few words or give a start image to improve",
    "problem.too_long": "{count} characters; the limit is {limit}",
    "problem.not_text": "character {position} ({code}) is not valid text; remove it and try again",
    "problem.control": "character {position} ({code}) is an invisible control character; remove it and try again",
    "problem.required_image": "required; give a JPEG or PNG file or an http(s) URL",
    "problem.image_small": "{width}x{height} px is too small; each side must be at least {min} px",
    "problem.image_aspect": "aspect ratio {ratio} ({width}x{height} px) is outside {allowed}",
    "field.prompt": "prompt",
    "field.negative_prompt": "negative_prompt",
    "field.image": "image",
    "field.end_image": "end_image",
    "page_field.image": "Start image",
    "page_field.end_image": "End image",
    "field.duration": "duration",
    "field.guidance_scale": "guidance_scale",
    "field.aspect_ratio": "aspect_ratio",
    "spend.own_key_required": (
        'This Space asks visitors to bring their own WaveSpeed key: add yours under "Your API key". Nothing was sent.'
    ),
    "spend.hourly_browser": (
        "This Space's key allows {limit} clips per hour per browser, and that many have been made; "
        "the next one frees up in {wait}. Add your own WaveSpeed key to go on now. Nothing was sent."
    ),
    "spend.hourly_address": (
        "This Space's key allows {limit} clips per hour per address, and that many have been made; "
        "the next one frees up in {wait}. Add your own WaveSpeed key to go on now. Nothing was sent."
    ),
    "spend.lookup_browser": (
        "This Space's key allows {limit} clips or lookups of task ids this browser did not make per hour per "
        "browser, and that many have been used; the next one frees up in {wait}. Nothing was sent."
    ),
    "spend.lookup_address": (
        "This Space's key allows {limit} clips or lookups of task ids this browser did not make per hour per "
        "address, and that many have been used; the next one frees up in {wait}. Nothing was sent."
    ),
    "spend.budget": (
        "This Space's daily budget of {budget} has {left} left, not enough for this {price} clip; it resets at "
        "midnight UTC (in {wait}). Add your own WaveSpeed key to go on now. Nothing was sent."
    ),
    "spend.prompt_browser": (
        "This Space's key allows {limit} prompt suggestions per hour per browser, and that many have been made; "
        "the next one frees up in {wait}. Nothing was sent."
    ),
    "spend.prompt_address": (
        "This Space's key allows {limit} prompt suggestions per hour per address, and that many have been made; "
        "the next one frees up in {wait}. Nothing was sent."
    ),
    "spend.prompt_budget": (
        "This Space's daily budget of {budget} has {left} left, not enough for a {price} suggestion; it resets at "
        "midnight UTC (in {wait}). Nothing was sent."
    ),
    "prompt_help.note": "A suggestion in the {style} style: your prompt is unchanged until you press Use this prompt.",
    "prompt_help.note_preview": (
        "A simulated suggestion in the {style} style (preview: free, not WaveSpeed's): your prompt is unchanged "
        "until you press Use this prompt."
    ),
    "prompt_help.cut": (
        "The suggestion had {count} characters, over the {limit} limit, so it is cut at the last sentence that fits."
    ),
    "prompt_help.failed": "No suggestion, and your prompt is unchanged: {reason}",
    "prompt_help.used": "The suggestion is now your prompt; Back to mine puts your own words back.",
    "prompt_help.back_done": "Your own words are back.",
    "prompt_help.style_default": "default",
    "prompt_help.style_artistic": "artistic",
    "prompt_help.style_photographic": "photographic",
    "prompt_help.style_technical": "technical",
    "prompt_help.style_anime": "anime",
    "prompt_help.style_realistic": "realistic",
    "lab.written": "{count} variants written, each in its own style: edit them as you like, then run.",
    "lab.write_stopped": "Variants from {letter} on were not written: {reason}",
    "lab.style_label": "Variant {letter}: prompt ({style})",
    "spend.runs_visitor": (
        "You already have {limit} generations under way, the most one visitor may have at once, so this one "
        "was not started; nothing was sent."
    ),
    "spend.runs_address": (
        "Your address already has {limit} generations under way, the most one address may have at once, so "
        "this one was not started; nothing was sent."
    ),
    "spend.decodes_visitor": (
        "Another of your images is still being read, so this one was not; try again in a moment, nothing was sent."
    ),
    "spend.decodes_address": (
        "Another image from your address is still being read, so this one was not; try again in a moment, "
        "nothing was sent."
    ),
    "spend.previews_hourly": (
        "The free preview allows {limit} clips per hour per address and that many have been made, so this one "
        "was not started; the next one frees up in {wait}."
    ),
    "spend.key_checks": (
        "Keys may be checked with WaveSpeed {limit} times a minute per visitor and per address, and that many "
        "were, so this one was not; try again in {wait}, nothing was sent."
    ),
    "spend.uploads_bytes": (
        "Your address has uploaded {limit} MB in the last {window}, the most allowed, so this file was not "
        "stored; try again in {wait}."
    ),
    "spend.uploads_count": (
        "Your address has uploaded {limit} files in the last {window}, the most allowed, so this file was not "
        "stored; try again in {wait}."
    ),
    "spend.upload_too_large": (
        "This upload is over {limit} MB, more than one address may upload in {window}, so it was not stored."
    ),
    "spend.uploads_full": (
        "The server's space for uploads is full of files still in use, so this file was not stored; "
        "try again in {wait}."
    ),
    "time.minutes": "{minutes} min",
    "time.hours": "{hours} h {minutes} min",
    "sign_in.refusal": SIGN_IN_REFUSAL,
    # History
    "history.clip_column": "Clip",
    "history.when": "When",
    "history.status": "Status",
    "history.prompt": "Prompt",
    "history.mode": "Mode",
    "history.model": "Model",
    "history.price": "Price",
    "history.task_id": "Task id",
    "history.preview": "Preview",
    "history.live": "Live",
    "history.free": "free",
    "history.total": (
        "This browser's tasks, newest first. Select a row to see its clip and settings.\n\n"
        "**{tasks}** · spent on live clips: **{spent}** ({live} live, {preview} preview){refunds}"
    ),
    "history.tasks_one": "{count} task",
    "history.tasks": "{count} tasks",
    "history.refunds": "; {failed} failed, refunded by WaveSpeed and not counted",
    "history.refunded": "{price} refunded",
    "history.select": "Select a row to see its clip and settings.",
    "history.select_first": "Select one of your tasks first.",
    "history.no_clip": "No saved clip",
    "notice.title": "Note",
    "model.i2v": "Image to Video",
    "model.t2v": "Text to Video",
    "job.saved": "clip saved",
    "job.running": "running in the background",
    "job.not_downloaded": "done, clip not downloaded: resume",
    "job.pruned": "clip removed to keep the disk bounded",
    "job.interrupted_preview": "interrupted (preview)",
    "job.resume": "{status}: resume",
    "job.failed_code": "{status} ({code})",
    "job.refunded": "{status}, refunded",
    "job.head_preview": "**{model}** · preview (simulated) · task `{task_id}`",
    "job.head_live": "**{model}** · live · task `{task_id}`",
    "job.status": "Status: **{status}**",
    "job.continues": "Continues task `{task_id}` (from its last frame)",
    "job.output_url": "Output URL: {url}",
    "resume.not_an_id": "{text} is not a task id (letters, digits, - and _).",
    "resume.not_an_id_title": "Check the id",
    "resume.not_yours": "That task belongs to another browser.",
    "resume.not_yours_title": "Not yours",
    "resume.preview_gone": "Preview tasks live only as long as the app that made them; this one cannot be resumed.",
    "resume.claimed": (
        "That task may belong to another visitor whose submit lost its answer; the Space's operator decides "
        "whose it is."
    ),
    "resume.failed_title": "Could not resume",
    # the Prompt Lab
    "lab.price_preview": "{count} variants: free preview (simulated clips)",
    "lab.price_live": "{count} variants: {price} in all",
    "lab.summary": "{done} of {total} variants done.",
    "lab.label": "{letter}: {what}",
    "lab.same": "same settings (a second take)",
    "lab.seconds": "{value} s",
    "lab.guidance": "guidance {value}",
    "lab.negative": "negative: {text}",
    "lab.none": "(none)",
    "lab.not_started": "Variants from {letter} on were not started: {reason}",
    "lab.needs_image": "Image to Video needs a start image: add one in Start image, or switch to Text to Video.",
    "lab.carried": "The start image from Image to Video, brought over. Drop another here to try it instead.",
    "link.no_image": (
        "### 🖼️ Add your start image\n\nThis link filled in the prompt and settings; the start image is not"
        " part of a link. Add it under **Start image** (drop a file or click the box), then Generate."
    ),
    "lab.stopped": "Stopped waiting. The variants keep running (and are billed); their clips land in History.",
    # the showcase
    "showcase.label": "Kling's output for this example, made {made}: free to watch",
    "showcase.status": (
        "### 🎬 {title}\n\n**Kling's output for this example, made {made}: free to watch.**\n\n"
        "Made once by this Space's owner. Generate makes a new take at the usual price."
    ),
    "showcase.made": "Made",
    "showcase.price": "free to watch (paid once by this Space's owner)",
    "showcase.image": "Photo",
    "showcase.prompt": "Prompt",
    "showcase.negative_prompt": "Negative prompt",
    "showcase.guidance_scale": "Guidance scale",
    "showcase.aspect_ratio": "Aspect ratio",
    "showcase.duration": "Duration (s)",
    # continue and stitch
    "continue.none": "There is no finished clip of yours to continue here yet.",
    "share.none": "There is no finished clip of yours to share here yet.",
    "share.shared": "Shared: anyone with the link can watch this clip. Stop sharing whenever you like.",
    "share.stopped": "No longer shared: the link now answers 404.",
    "share.not_shared": "This clip is not shared.",
    "share.not_yours": "Only the visitor who made this clip can share it or stop sharing it.",
    "share.nsfw": "WaveSpeed flagged this clip as NSFW: it cannot be shared.",
    "share.no_clip": "This clip is no longer saved here, so it cannot be shared.",
    "share.title": "Share",
    "share.made_with": "Made with Kling v2.0 master",
    "share.preview": "PREVIEW: a simulated clip made without an API key, not a real Kling video.",
    "share.try": "Try these settings",
    "share.film": "A film of {clips} clips",
    "share.label.model": "Model",
    "share.label.duration": "Duration",
    "share.label.seconds": "{seconds} s",
    "share.label.aspect": "Aspect ratio",
    "share.label.guidance": "Guidance scale",
    "share.label.negative": "Negative prompt",
    "share.label.made": "Made",
    "share.gallery_empty": "Nothing has been shared here yet.",
    "share.too_many": (
        "You have shared {limit} clips in the last hour, as many as one visitor may; the next share frees up "
        "in {wait}. Your links that are shared stay shared."
    ),
    "share.views_limited": (
        "This address has opened {limit} shared pages in the last minute, as many as one address may; "
        "try again in {seconds} s."
    ),
    "continue.unreadable": "Could not read the clip's last frame: {reason}",
    "continue.unreadable_title": "Cannot continue",
    "continue.note": (
        "### ↪ Continuing task `{task_id}`\n\nIts last frame is the start image and its prompt is in the box: "
        "edit it for the next shot, then Generate."
    ),
    "stitch.title": "Stitch",
    "stitch.refusal": "Not stitched, nothing was charged. {problems}",
    "stitch.too_few": "Pick at least two clips to stitch, in the order they should play.",
    "stitch.bad_fade": "The cross-fade is 0 to {max} seconds, not {fade}.",
    "stitch.failed_title": "Could not stitch",
    "stitch.cutting": "Cutting clip {clip} of {clips}…",
    "stitch.saving": "Saving the film…",
    "stitch.none": "No films yet.",
    "stitch.not_yours": "Not one of this browser's finished clips: {ids}. Refresh and pick again.",
    "stitch.film_not_yours": "That film is not one of yours.",
    "stitch.too_long": (
        "A film takes at most {max_clips} clips and {max_seconds} s in all, and these {clips} clips make {seconds} s."
    ),
    "stitch.busy": "Your previous film is still being stitched: wait for it, then stitch the next.",
    "stitch.oldest_removed": "Each browser keeps its {max} newest films, so your oldest film {names} was removed.",
    "example.caption": "{title} ({aspect_ratio})",
    "example.with_clip": "{caption} · 🎬 Kling clip",
}

SAY_ZH: dict[str, str] = {
    "banner.own_key": "🟢 **正式模式（WaveSpeed API），使用你自己的密钥**：视频费用记入你的 WaveSpeed 账户。",
    "banner.own_key_unchecked": (
        "🟠 **你的密钥已保存，但尚未验证**：暂时无法连接 WaveSpeed 进行验证，因此还不知道它是否可用。"
        "再次保存即可立即验证；点击“生成”时也会验证（被拒绝的密钥不会产生费用）。"
    ),
    "banner.preview": (
        "🟡 **预览模式：视频在本地模拟生成，未设置 API 密钥。** 它们是标有 PREVIEW 的替身，"
        "不是可灵的输出。在下方添加你自己的 WaveSpeed 密钥即可真正生成。"
    ),
    "banner.bring_key": (
        "🟢 **正式模式（WaveSpeed API）**：每个视频都是一次付费的 Kling v2.0 master 生成。"
        "本 Space 要求你使用自己的密钥（见下方）。"
    ),
    "banner.limits": (
        "🟢 **正式模式（WaveSpeed API）**：每个视频都是一次付费的 Kling v2.0 master 生成。"
        "本 Space 密钥的限额：每位访客每小时 {per_hour} 个视频。"
    ),
    "banner.limits_budget": (
        "🟢 **正式模式（WaveSpeed API）**：每个视频都是一次付费的 Kling v2.0 master 生成。"
        "本 Space 密钥的限额：每位访客每小时 {per_hour} 个视频；今日预算 {budget}，还剩 {left}。"
    ),
    "key.server_has": "本 Space 有自己的密钥（从不显示）。",
    "key.server_none": "本 Space 没有自己的密钥。",
    "key.saved": "你以 `{last4}` 结尾的密钥已保存在本浏览器中，用于你的生成。",
    "usage.today": "**今天（UTC）：**已花费 {spent}，每日预算 {budget}：**剩余 {left}**。",
    "usage.today_no_budget": "**今天（UTC）：**已花费 {spent}；未设置每日预算（KLING_DAILY_BUDGET_USD）。",
    "usage.balance": "**余额：**{balance}，可生成 {clips} 段 5 秒视频。",
    "usage.balance_low": "**余额：**{balance}，不足一段 5 秒视频：请在 {url} 充值。",
    "usage.balance_unread": "**余额：**无法读取（{reason}）。",
    "usage.preview": "预览模式：没有 WAVESPEED_API_KEY，不产生任何花费。",
    "usage.credit": "**因余额不足被拒绝**，时间 {when} UTC（当时余额 {balance}）：请在 {url} 充值。",
    "usage.schema": "**WaveSpeed 的实时参数表与价格：**{summary}",
    "key.saved_balance": (
        "你以 `{last4}` 结尾的密钥已保存在本浏览器中，用于你的生成。WaveSpeed 已接受该密钥；余额 **{balance}**。"
    ),
    "key.none": "本浏览器中没有保存密钥。",
    "key.saved_unchecked": "⚠️ 你以 `{last4}` 结尾的密钥已保存在本浏览器中，但**尚未验证**：无法连接 WaveSpeed。",
    "key.refused": "❌ **WaveSpeed 拒绝了该密钥（401）**，因此没有保存。",
    "key.paste_first": "请先粘贴 WaveSpeed API 密钥。",
    "key.unchecked": "暂时无法向 WaveSpeed 验证该密钥；密钥已保存，将在点击“生成”时验证。",
    "price.preview": (
        "此处为免费预览（模拟）。正式生成：{seconds} 秒 **{price}**，通常需要几分钟。[获取 WaveSpeed 密钥]({url})"
    ),
    "price.live": "正式生成：{seconds} 秒 **{price}**，通常需要几分钟。[获取 WaveSpeed 密钥]({url})",
    "video.preview": "预览视频（模拟，不是可灵输出）",
    "video.live": "Kling v2.0 master 视频",
    "stage.validating": "正在检查输入",
    "stage.uploading": "正在上传图片",
    "stage.submitting": "正在提交任务",
    "stage.recovering": "正在查找任务",
    "stage.submitted": "任务已创建",
    "stage.created": "在 WaveSpeed 排队中",
    "stage.created_preview": "排队中（模拟）",
    "stage.processing": "生成中",
    "stage.completed": "已完成",
    "stage.retrying": "状态查询失败，正在重试",
    "stage.downloading": "正在下载视频",
    "stage.done": "完成",
    "stage.error": "失败",
    "status.undocumented": "状态 {status}（文档中没有）：继续等待",
    "status.failed": "### ❌ 用时 {elapsed} 后失败",
    "status.refunded": "WaveSpeed 会退还失败任务的费用：{price} 通常在几小时内退回你的 WaveSpeed 余额。",
    "status.failed_free": "预览：未产生任何费用。",
    "status.done": "### ✅ 完成，用时 {elapsed}",
    "status.running": "### ⏳ {words} · {elapsed}",
    "status.task": "任务 `{task_id}` · 已查询状态 {polls} 次",
    "status.task_status": "任务 `{task_id}` · 状态 **{status}** · 已查询状态 {polls} 次",
    "task_status.created": "已创建",
    "task_status.processing": "处理中",
    "task_status.completed": "已完成",
    "task_status.failed": "失败",
    "status.preview": "_预览：在本地模拟生成，不是可灵输出。_",
    "estimate": "预计进度 {bar} {percent}%（这是估计，不是测量：一个 {seconds} 秒的视频通常需要约 {about}）",
    "estimate.seconds": "{n} 秒",
    "estimate.minutes": "{n} 分钟",
    "busy": "生成中… {elapsed}",
    "details.task_id": "任务 ID",
    "details.model": "模型",
    "details.inference": "推理时间",
    "details.inference_value": "{seconds} 秒",
    "details.nsfw": "NSFW 标记",
    "details.flagged": "⚠️ 已标记",
    "details.not_flagged": "未标记",
    "details.output_url": "输出 URL",
    "details.no_url": "无：本地模拟",
    "details.url_kept": "{url}（保留 7 天）",
    "details.price": "价格",
    "details.free": "免费（预览）",
    "stop.no_task": "已停止。尚未创建任务，因此没有发送任何内容，也没有收费。",
    "stop.preview": (
        "### ⏹ 已停止等待\n\n任务 `{task_id}` 在后台继续运行（免费的模拟预览）。"
        "完成后会保存其视频：它会显示在这里和“历史记录”标签页中。"
    ),
    "stop.live": (
        "### ⏹ 已停止等待\n\n任务 `{task_id}` 在 WaveSpeed 后台继续运行，并且仍会计费。"
        "完成后会保存其视频：它会显示在这里和“历史记录”标签页中。"
    ),
    "background.done": "### ✅ 已在后台完成\n\n任务 `{task_id}`：其视频已保存（也在历史记录中）。",
    "background.ended": "### ❌ 任务 `{task_id}`：{status}",
    "comeback.note": "_页面重新加载后恢复：此任务此前已在进行中，没有再次提交，也没有再次收费。_",
    "comeback.done": "### ✅ 完成，用时 {elapsed}\n\n任务 `{task_id}`：其视频已保存（也在历史记录中）。",
    "comeback.task": "任务 `{task_id}` · 状态 **{status}**",
    "refusal": "未发送，没有收费。{problems}",
    "refusal.title": "请检查输入",
    "refusal.lab_title": "请检查各个变体",
    "refusal.limit_title": "已达上限",
    "refusal.sign_in_title": "请先登录",
    "refusal.failed_title": "生成失败",
    "problem": "{field}：{message}",
    "problem.required_prompt": "必填；请描述你想要的视频",
    "problem.improve_empty": "请写几个词，或提供一张起始图片，再来优化",
    "problem.too_long": "{count} 个字符；上限为 {limit}",
    "problem.not_text": "第 {position} 个字符（{code}）不是有效文字；请删除后重试",
    "problem.control": "第 {position} 个字符（{code}）是不可见的控制字符；请删除后重试",
    "problem.required_image": "必填；请提供 JPEG 或 PNG 文件，或 http(s) URL",
    "problem.image_small": "{width}x{height} 像素太小；每条边至少需要 {min} 像素",
    "problem.image_aspect": "画面比例 {ratio}（{width}x{height} 像素）超出允许范围 {allowed}",
    "field.prompt": "提示词",
    "field.negative_prompt": "负面提示词",
    "field.image": "起始图片",
    "field.end_image": "结束图片",
    "page_field.image": "起始图片",
    "page_field.end_image": "结束图片",
    "field.duration": "时长",
    "field.guidance_scale": "引导强度",
    "field.aspect_ratio": "画面比例",
    "spend.own_key_required": (
        "本 Space 要求访客使用自己的 WaveSpeed 密钥：请在“你的 API 密钥”中添加。没有发送任何内容。"
    ),
    "spend.hourly_browser": (
        "本 Space 的密钥每个浏览器每小时允许生成 {limit} 个视频，已经用完；下一个名额将在 {wait} 后空出。"
        "添加你自己的 WaveSpeed 密钥即可立即继续。没有发送任何内容。"
    ),
    "spend.hourly_address": (
        "本 Space 的密钥每个网络地址每小时允许生成 {limit} 个视频，已经用完；下一个名额将在 {wait} 后空出。"
        "添加你自己的 WaveSpeed 密钥即可立即继续。没有发送任何内容。"
    ),
    "spend.lookup_browser": (
        "本 Space 的密钥每个浏览器每小时允许生成视频或查询非本浏览器创建的任务 ID 共 {limit} 次，已经用完；"
        "下一个名额将在 {wait} 后空出。没有发送任何内容。"
    ),
    "spend.lookup_address": (
        "本 Space 的密钥每个网络地址每小时允许生成视频或查询非本浏览器创建的任务 ID 共 {limit} 次，已经用完；"
        "下一个名额将在 {wait} 后空出。没有发送任何内容。"
    ),
    "spend.budget": (
        "本 Space 的每日预算 {budget} 还剩 {left}，不够这个 {price} 的视频；预算在 UTC 午夜重置（{wait} 后）。"
        "添加你自己的 WaveSpeed 密钥即可立即继续。没有发送任何内容。"
    ),
    "spend.prompt_browser": (
        "本 Space 的密钥每个浏览器每小时允许 {limit} 次提示词建议，"
        "已经用完；下一个名额将在 {wait} 后空出。没有发送任何内容。"
    ),
    "spend.prompt_address": (
        "本 Space 的密钥每个网络地址每小时允许 {limit} 次提示词建议，"
        "已经用完；下一个名额将在 {wait} 后空出。没有发送任何内容。"
    ),
    "spend.prompt_budget": (
        "本 Space 的每日预算 {budget} 还剩 {left}，不够一次 {price} "
        "的建议；预算在 UTC 午夜重置（{wait} 后）。没有发送任何内容。"
    ),
    "prompt_help.note": "{style}风格的建议：在你按下“使用这个提示词”之前，你的提示词保持不变。",
    "prompt_help.note_preview": (
        "{style}风格的模拟建议（预览：免费，并非 WaveSpeed 的结果）：在你按下“使用这个提示词”之前，你的提示词保持不变。"
    ),
    "prompt_help.cut": "建议有 {count} 个字符，超过 {limit} 的上限，因此在能放下的最后一句处截断。",
    "prompt_help.failed": "没有建议，你的提示词保持不变：{reason}",
    "prompt_help.used": "建议现在是你的提示词；“换回我的”可以恢复你自己的文字。",
    "prompt_help.back_done": "已恢复你自己的文字。",
    "prompt_help.style_default": "默认",
    "prompt_help.style_artistic": "艺术",
    "prompt_help.style_photographic": "摄影",
    "prompt_help.style_technical": "技术",
    "prompt_help.style_anime": "动漫",
    "prompt_help.style_realistic": "写实",
    "lab.written": "已写出 {count} 个变体，各有各的风格：随意修改，然后运行。",
    "lab.write_stopped": "从 {letter} 起的变体没有写出：{reason}",
    "lab.style_label": "变体 {letter}：提示词（{style}）",
    "spend.runs_visitor": (
        "你已有 {limit} 个视频正在生成，这是每位访客同时能有的上限，所以这一个没有开始；没有发送任何内容。"
    ),
    "spend.runs_address": (
        "你的网络地址已有 {limit} 个视频正在生成，这是每个地址同时能有的上限，所以这一个没有开始；没有发送任何内容。"
    ),
    "spend.decodes_visitor": "你的另一张图片还在读取中，所以这一张没有读取；请稍后再试，没有发送任何内容。",
    "spend.decodes_address": (
        "来自你的网络地址的另一张图片还在读取中，所以这一张没有读取；请稍后再试，没有发送任何内容。"
    ),
    "spend.previews_hourly": (
        "免费预览每个网络地址每小时允许生成 {limit} 个视频，已经用完，所以这一个没有开始；"
        "下一个名额将在 {wait} 后空出。"
    ),
    "spend.key_checks": (
        "每位访客和每个网络地址每分钟最多向 WaveSpeed 验证 {limit} 次密钥，已经用完，所以这一次没有验证；"
        "请在 {wait} 后再试，没有发送任何内容。"
    ),
    "spend.uploads_bytes": (
        "你的网络地址在最近 {window} 内已上传 {limit} MB，达到上限，所以这个文件没有保存；请在 {wait} 后再试。"
    ),
    "spend.uploads_count": (
        "你的网络地址在最近 {window} 内已上传 {limit} 个文件，达到上限，所以这个文件没有保存；请在 {wait} 后再试。"
    ),
    "spend.upload_too_large": "这次上传超过 {limit} MB，超过每个地址在 {window} 内可上传的总量，所以没有保存。",
    "spend.uploads_full": "服务器的上传空间已被仍在使用的文件占满，所以这个文件没有保存；请在 {wait} 后再试。",
    "time.minutes": "{minutes} 分钟",
    "time.hours": "{hours} 小时 {minutes} 分钟",
    "sign_in.refusal": (
        "本 Space 的密钥只供使用 Hugging Face 登录的访客使用：请登录，或在“你的 API 密钥”中添加你自己的 "
        "WaveSpeed 密钥。没有发送任何内容。"
    ),
    "history.clip_column": "视频",
    "history.when": "时间",
    "history.status": "状态",
    "history.prompt": "提示词",
    "history.mode": "模式",
    "history.model": "模型",
    "history.price": "价格",
    "history.task_id": "任务 ID",
    "history.preview": "预览",
    "history.live": "正式",
    "history.free": "免费",
    "history.total": (
        "本浏览器的任务，最新的在前。选择一行即可查看其视频和设置。\n\n"
        "**{tasks}** · 正式视频花费：**{spent}**（正式 {live} 个，预览 {preview} 个{refunds}）"
    ),
    "history.tasks_one": "共 {count} 个任务",
    "history.tasks": "共 {count} 个任务",
    "history.refunds": "；失败 {failed} 个，WaveSpeed 已退款，不计入花费",
    "history.refunded": "{price} 已退款",
    "history.select": "选择一行即可查看其视频和设置。",
    "history.select_first": "请先选择你的一个任务。",
    "history.no_clip": "没有已保存的视频",
    "notice.title": "提示",
    "model.i2v": "图生视频",
    "model.t2v": "文生视频",
    "job.saved": "视频已保存",
    "job.running": "在后台运行中",
    "job.not_downloaded": "已完成，视频未下载：可恢复",
    "job.pruned": "为控制磁盘占用，视频已删除",
    "job.interrupted_preview": "已中断（预览）",
    "job.resume": "{status}：可恢复",
    "job.failed_code": "{status}（{code}）",
    "job.refunded": "{status}，已退款",
    "job.head_preview": "**{model}** · 预览（模拟） · 任务 `{task_id}`",
    "job.head_live": "**{model}** · 正式 · 任务 `{task_id}`",
    "job.status": "状态：**{status}**",
    "job.continues": "接续任务 `{task_id}`（从其最后一帧开始）",
    "job.output_url": "输出 URL：{url}",
    "resume.not_an_id": "{text} 不是任务 ID（只能包含字母、数字、- 和 _）。",
    "resume.not_an_id_title": "请检查 ID",
    "resume.not_yours": "该任务属于另一个浏览器。",
    "resume.not_yours_title": "不是你的任务",
    "resume.preview_gone": "预览任务只在生成它的应用运行期间存在；这个任务无法恢复。",
    "resume.claimed": "该任务可能属于另一位提交时丢失了回复的访客；由本 Space 的运营者判断它属于谁。",
    "resume.failed_title": "无法恢复",
    "lab.price_preview": "{count} 个变体：免费预览（模拟视频）",
    "lab.price_live": "{count} 个变体：共 {price}",
    "lab.summary": "{total} 个变体中已完成 {done} 个。",
    "lab.label": "{letter}：{what}",
    "lab.same": "设置相同（再拍一条）",
    "lab.seconds": "{value} 秒",
    "lab.guidance": "引导强度 {value}",
    "lab.negative": "负面：{text}",
    "lab.none": "（无）",
    "lab.not_started": "从变体 {letter} 起未启动：{reason}",
    "lab.needs_image": "图生视频需要起始图片：请在“起始图片”中添加，或切换到文生视频。",
    "lab.carried": "这是从“图生视频”带过来的起始图片。想换一张，把新图片拖到这里即可。",
    "link.no_image": (
        "### 🖼️ 请添加起始图片\n\n此链接已填好提示词和设置；起始图片不包含在链接中。"
        "请在**起始图片**处添加（拖入文件或点击该框），然后点击生成。"
    ),
    "lab.stopped": "已停止等待。各变体仍在运行（并计费）；它们的视频会出现在历史记录中。",
    "showcase.label": "可灵为此示例生成的视频，生成于 {made}：免费观看",
    "showcase.status": (
        "### 🎬 {title}\n\n**可灵为此示例生成的视频，生成于 {made}：免费观看。**\n\n"
        "由本 Space 的所有者生成一次。点击“生成”会按正常价格重新生成。"
    ),
    "showcase.made": "生成时间",
    "showcase.price": "免费观看（由本 Space 的所有者付费一次）",
    "showcase.image": "照片",
    "showcase.prompt": "提示词",
    "showcase.negative_prompt": "负面提示词",
    "showcase.guidance_scale": "引导强度",
    "showcase.aspect_ratio": "画面比例",
    "showcase.duration": "时长（秒）",
    "continue.none": "这里还没有你的已完成视频可以继续。",
    "share.none": "这里还没有你的已完成视频可以分享。",
    "share.shared": "已分享:任何拿到链接的人都能观看这个视频。你可以随时停止分享。",
    "share.stopped": "已停止分享:该链接现在返回 404。",
    "share.not_shared": "这个视频没有被分享。",
    "share.not_yours": "只有制作这个视频的访客才能分享它或停止分享。",
    "share.nsfw": "WaveSpeed 将这个视频标记为 NSFW:不能分享。",
    "share.no_clip": "这个视频已不再保存在这里,因此不能分享。",
    "share.title": "分享",
    "share.made_with": "由 Kling v2.0 master 制作",
    "share.preview": "预览:这是没有 API 密钥时模拟生成的视频,不是真正的 Kling 视频。",
    "share.try": "试试这些设置",
    "share.film": "由 {clips} 个视频组成的影片",
    "share.label.model": "模型",
    "share.label.duration": "时长",
    "share.label.seconds": "{seconds} 秒",
    "share.label.aspect": "宽高比",
    "share.label.guidance": "引导系数",
    "share.label.negative": "反向提示词",
    "share.label.made": "制作时间",
    "share.gallery_empty": "这里还没有人分享视频。",
    "share.too_many": (
        "你在过去一小时内已分享 {limit} 个视频，这是每位访客的上限；下一次分享将在 {wait} 后可用。"
        "已分享的链接保持不变。"
    ),
    "share.views_limited": (
        "这个网络地址在过去一分钟内已打开 {limit} 个分享页面，这是每个地址的上限；请在 {seconds} 秒后再试。"
    ),
    "continue.unreadable": "无法读取视频的最后一帧：{reason}",
    "continue.unreadable_title": "无法继续",
    "continue.note": (
        "### ↪ 接续任务 `{task_id}`\n\n它的最后一帧已作为起始图片，它的提示词已在输入框中："
        "为下一个镜头修改提示词，然后点击“生成”。"
    ),
    "stitch.title": "拼接",
    "stitch.refusal": "未拼接，没有收费。{problems}",
    "stitch.too_few": "请按播放顺序选择至少两个要拼接的视频。",
    "stitch.bad_fade": "交叉淡化应为 0 到 {max} 秒，而不是 {fade}。",
    "stitch.failed_title": "无法拼接",
    "stitch.cutting": "正在剪辑第 {clip} 个视频，共 {clips} 个……",
    "stitch.saving": "正在保存影片……",
    "stitch.none": "还没有影片。",
    "stitch.not_yours": "不是本浏览器已完成的视频：{ids}。请刷新后重新选择。",
    "stitch.film_not_yours": "那部影片不是你的。",
    "stitch.too_long": "一部影片最多 {max_clips} 个视频、共 {max_seconds} 秒，而这 {clips} 个视频共 {seconds} 秒。",
    "stitch.busy": "你的上一部影片仍在拼接中：请等它完成后再拼接下一部。",
    "stitch.oldest_removed": "每个浏览器只保留最新的 {max} 部影片，因此你最早的影片 {names} 已被删除。",
    "example.caption": "{title}（{aspect_ratio}）",
    "example.with_clip": "{caption} · 🎬 可灵视频",
}

# What the page's own scripts write (the browser picks by `navigator.language`, as Gradio does).
SCRIPT_EN: dict[str, str] = {
    "count": "{count} / {limit} characters",
    "count_over": "⚠️ {count} / {limit} characters: {over} over the limit",
    "copied": "✓ Link copied",
    "copy_failed": "Copy the link beside this button",
    "replace_prompt": "Replace the prompt you typed with the director's brief?",
    "title_running": "⏳ Generating · Kling Studio",
    "title_done": "✅ Clip ready · Kling Studio",
    "title_failed": "❌ Failed · Kling Studio",
    "toast_Error": "Error",
    "toast_Warning": "Note",
    "toast_Info": "Note",
    "toast_Success": "Done",
    "poster_caption": "Example: a still from this tab's first example, not your result",
}
SCRIPT_ZH: dict[str, str] = {
    "count": "{count} / {limit} 个字符",
    "count_over": "⚠️ {count} / {limit} 个字符：超出上限 {over} 个",
    "copied": "✓ 链接已复制",
    "copy_failed": "请复制此按钮旁边的链接",
    "replace_prompt": "要用导演简报替换你已输入的提示词吗？",
    "title_running": "⏳ 生成中 · Kling Studio",
    "title_done": "✅ 视频已就绪 · Kling Studio",
    "title_failed": "❌ 失败 · Kling Studio",
    "toast_Error": "出错了",
    "toast_Warning": "提示",
    "toast_Info": "提示",
    "toast_Success": "完成",
    "poster_caption": "示例：本页第一个示例的画面，不是你的结果",
}

# The examples' titles (their English is in kling/examples.py, beside the example), by example key.
EXAMPLE_TITLES_ZH: dict[str, str] = {
    "cat-blinks": "猫咪切尔西",
    "astronaut-smiles": "宇航员肖像",
    "espresso-steam": "意式浓缩咖啡",
    "rocket-liftoff": "黄昏中的火箭",
    "t2v-park-bench": "公园长椅",
    "t2v-golden-hour": "黄金时刻肖像",
    "t2v-cozy-reading": "温馨阅读",
}

PAGE = {"en": PAGE_EN, "zh": PAGE_ZH}
SCRIPT = {"en": SCRIPT_EN, "zh": SCRIPT_ZH}
SAY = {"en": SAY_EN, "zh": SAY_ZH}


@cache
def i18n() -> gr.I18n:
    """The page's fixed text for `launch(i18n=...)`. Gradio's page picks "zh-CN" for a browser in
    Simplified Chinese and falls back from any "zh-…" to "zh" (so zh-TW, zh-HK and zh-SG read
    Simplified rather than English), then to "en"."""
    import gradio as gr

    return gr.I18n(en=PAGE_EN, zh=PAGE_ZH, **{"zh-CN": PAGE_ZH})


def text(key: str) -> I18nData:
    """A piece of the page's fixed text, translated in the browser. KeyError for an unknown key."""
    if key not in PAGE_EN:
        raise KeyError(key)
    return i18n()(key)


def english(label: object) -> str:
    """A label as an English reader sees it: a fixed text's English, else the label itself. For the
    messages scripts read (an API caller's refusal names the field by its English label)."""
    key = getattr(label, "key", None)
    if isinstance(key, str) and key in PAGE_EN:
        return PAGE_EN[key]
    return str(label) if label else ""


def language(accept_language: str | None) -> Lang:
    """ "zh" when the browser's first language is Chinese (zh, zh-CN, zh-Hans-…), else "en". Only
    the first tag counts, as only `navigator.language` counts for the page's fixed text."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    return "zh" if first == "zh" or first.startswith("zh-") else "en"


def say(lang: Lang | None, key: str, **values: Any) -> str:
    """The sentence `key` in `lang` (English for anything else), its slots filled from `values`."""
    table = SAY.get(lang or "en", SAY_EN)
    return table[key].format(**values)


def example_title(key: str, title: str, lang: Lang = "en") -> str:
    """An example's title in `lang`: its own (English) title, or the translation by its key."""
    return EXAMPLE_TITLES_ZH.get(key, title) if lang == "zh" else title


def minutes_text(seconds: float, lang: Lang = "en") -> str:
    """A wait, rounded to the minute: "42 min", "1 h 5 min"."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return say(lang, "time.minutes", minutes=minutes)
    return say(lang, "time.hours", hours=minutes // 60, minutes=minutes % 60)


def spend_text(lang: Lang, reason: str, **values: Any) -> str:
    """Why a limit of the Space's key refused a run (kling.jobs.guard); `wait_s` is a wait in seconds."""
    if "wait_s" in values:
        values["wait"] = minutes_text(float(values.pop("wait_s")), lang)
    return say(lang, f"spend.{reason}", **values)


def slots(template: str) -> set[str]:
    """The named slots of a template: "{a} of {b}" -> {"a", "b"}."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}
