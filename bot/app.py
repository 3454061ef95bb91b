"""The Telegram application: built from Settings, long polling or webhook (`factcheck bot`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from factcheck import logmask
from factcheck.bot import admin, buttons, digests, handlers
from factcheck.bot.journal import JournalApplication, JournalQueue, replay_pending
from factcheck.bot.services import Collection, Services
from factcheck.bot.transport import PatientRequest
from factcheck.engines import engine_for
from factcheck.errors import BadInputError, CollectionUnavailableError
from factcheck.history import open_history
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CHANNEL_POST, Update.CALLBACK_QUERY,
                   Update.MY_CHAT_MEMBER]
COMMANDS = [
    BotCommand("check", "check the replied message, or the text or link after it"),
    BotCommand("sources", "what the collection of trusted sources holds"),
    BotCommand("cancel", "stop your check in progress"),
    BotCommand("summary", "what this chat checked: 24h, 7d or the last N checks"),
    BotCommand("digest", "a daily summary: on [HH:MM] [target] or off (admins)"),
    BotCommand("help", "what I do and what I cannot do"),
    BotCommand("add", "add a source to the collection (admins)"),
    BotCommand("autocheck", "check a channel's posts: on or off (admins)"),
]
NO_TOKEN = "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env"


def build_application(settings: Settings) -> Application:
    """The bot's Application, with its handlers; services are opened when it starts."""
    if settings.telegram_bot_token is None:
        raise BadInputError(NO_TOKEN)
    app = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        # Sends outlive a short outage; getUpdates is retried by the polling loop itself.
        .request(PatientRequest(settings.telegram_retry_seconds, connection_pool_size=256))
        .get_updates_request(PatientRequest(0))
        .defaults(Defaults(parse_mode=ParseMode.HTML,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        # Waits out Telegram's flood limits, and a 429's retry_after, instead of dropping.
        .rate_limiter(AIORateLimiter(max_retries=3))
        # Checks take seconds to minutes: updates of other chats must not wait behind them.
        .concurrent_updates(True)
        # Updates are journalled before they are confirmed: a killed bot runs them again.
        .application_class(JournalApplication)
        .update_queue(JournalQueue())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["settings"] = settings
    add_handlers(app)
    return app


def add_handlers(app: Application) -> None:
    """Register every handler; the access gate runs first (group -1)."""
    new = filters.UpdateType.MESSAGE
    article = filters.TEXT | filters.CAPTION | filters.Document.ALL
    app.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    app.add_handler(CommandHandler("start", handlers.start, new))
    app.add_handler(CommandHandler("help", handlers.help_command, new))
    app.add_handler(CommandHandler("check", handlers.check_command, new))
    app.add_handler(CommandHandler("cancel", handlers.cancel, new))
    app.add_handler(CommandHandler("sources", admin.sources_command, new))
    app.add_handler(CommandHandler("add", admin.add_command, new))
    app.add_handler(CommandHandler("autocheck", admin.autocheck_command, new))
    app.add_handler(CommandHandler("summary", digests.summary_command, new))
    app.add_handler(CommandHandler("digest", digests.digest_command, new))
    channel = filters.UpdateType.CHANNEL_POST
    app.add_handler(MessageHandler(channel & filters.Regex(r"^/autocheck(@\w+)?(\s|$)"),
                                   admin.autocheck_command))
    app.add_handler(MessageHandler(channel & filters.Regex(r"^/digest(@\w+)?(\s|$)"),
                                   digests.digest_command))
    app.add_handler(MessageHandler(channel & article & ~filters.COMMAND, admin.channel_post))
    app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & article & ~filters.COMMAND,
                                   handlers.private_message))
    app.add_handler(MessageHandler(new & filters.ChatType.GROUPS & article & ~filters.COMMAND,
                                   handlers.group_message))
    app.add_handler(MessageHandler(new & filters.COMMAND, handlers.unknown_command))
    app.add_handler(CallbackQueryHandler(buttons.on_button))
    app.add_error_handler(handlers.on_error)


async def _post_init(app: Application) -> None:
    settings: Settings = app.bot_data["settings"]
    collection = Collection(settings)
    try:
        await asyncio.to_thread(collection.store)  # loads the embedder: seconds
    except CollectionUnavailableError as exc:  # the bot serves the rest; checks say so
        logger.warning("%s: checks and /sources say the collection is unavailable until it is "
                       "back", exc)
    await _warm_up(settings)
    history = open_history(settings)
    app.bot_data["services"] = Services.build(settings, collection, history)
    restored = digests.restore(app)  # schedules survive restarts: they are chat settings
    replayed = await replay_pending(app, history)  # what a killed run left unfinished
    await app.bot.set_my_commands(COMMANDS)
    logger.info("bot @%s ready, %d digest(s) scheduled, %d interrupted update(s) run again "
                "(engine %s)", app.bot.username, restored, replayed, settings.resolved_engine())


async def _warm_up(settings: Settings) -> None:
    """Load the engine's models before serving, so that the first check waits no longer than
    the next (about 2 s offline); a model that fails to load fails its check, as without this."""
    try:
        await asyncio.to_thread(engine_for(settings).warm_up)
    except Exception:
        logger.exception("loading the %s engine's models failed; checks will try again",
                         settings.resolved_engine())


async def _post_shutdown(app: Application) -> None:
    services: Services | None = app.bot_data.get("services")
    if services:
        services.collection.close()
        services.history.close()


def run(settings: Settings) -> None:
    """Run the bot until interrupted: a webhook server when WEBHOOK_URL is set, else polling."""
    app = build_application(settings)
    _quiet_loggers()
    serve(app, settings)


def serve(app: Application, settings: Settings, **options: Any) -> None:
    """Run a built application until stopped; `options` go to run_polling or run_webhook."""
    logmask.install(settings)  # the token, keys and passwords in URLs never reach a log line
    if settings.webhook_url:
        secret = webhook_secret(settings)
        logmask.add_secret(secret, "<webhook secret>")
        app.run_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url, secret_token=secret,
            allowed_updates=ALLOWED_UPDATES, **options,
        )
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES, **options)


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, else a random one for this run: a webhook never serves without one."""
    if settings.webhook_secret:
        return settings.webhook_secret.get_secret_value()
    # Without a secret anyone who finds the port could post updates "from" an admin. Telegram
    # learns this one from setWebhook at start-up; its alphabet (A-Z a-z 0-9 _ -) is Telegram's.
    logger.info("WEBHOOK_SECRET is not set: using a random secret for this run")
    return secrets.token_urlsafe(32)


def _quiet_loggers() -> None:
    # httpx logs every request URL at INFO: noise (serve() masks what secrets they hold).
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.level == logging.NOTSET:
        httpx_logger.setLevel(logging.WARNING)
