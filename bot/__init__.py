"""The Telegram front end (python-telegram-bot): a thin caller of `factcheck`; see bot.app."""
