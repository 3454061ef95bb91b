"""The few exceptions the pipeline raises; front ends turn them into one line and an exit code."""


class FactcheckError(Exception):
    """Base for every error this project reports to a user."""


class BadInputError(FactcheckError):
    """The article, file, URL or corpus given cannot be used (exit code 2)."""


class FetchError(BadInputError):
    """A URL could not be fetched or was refused by the address guard."""


class LLMError(FactcheckError):
    """The language model failed or answered unusably, after retries."""


class StoreError(FactcheckError):
    """The vector store or the history database is unreachable or damaged."""


class CollectionUnavailableError(StoreError):
    """The collection of trusted sources cannot be reached (its Chroma server is down)."""
