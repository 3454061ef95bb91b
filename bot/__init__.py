"""The Telegram front end (python-telegram-bot); a thin caller of `factcheck`. Built in its own issue."""
