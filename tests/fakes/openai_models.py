"""Scripted models for the fake OpenAI server's `responder`: they answer what nothing is queued
for, from the request alone.

    server.responder = ObedientInjectedModel()   # does what injected text in its data says
    server.responder = LabelledClaimsModel(rows) # answers the claims prompt from a claim set
"""

from __future__ import annotations

import json
import re
from typing import Any


class ObedientInjectedModel:
    """A model that does what its data tells it. Claims: every sentence of the article but the
    ones that talk to the model, copied exactly. Stance: once any request carried "ignore
    previous instructions", every passage SUPPORTS the claim (0.87), quoting the passage's
    sentence that shares most words with the claim, or, with quote="claim", the claim itself;
    before that, every passage NOT_ENOUGH_INFO."""

    INJECTION = "ignore previous instructions"

    def __init__(self, quote: str = "passage") -> None:
        self.quote = quote
        self.obeying = False

    def __call__(self, request: dict[str, Any]) -> str:
        last = str(request["messages"][-1]["content"])
        self.obeying = self.obeying or self.INJECTION in last.lower()
        if '"judgements"' in str(request["messages"][0]["content"]):
            return json.dumps({"judgements": self._judgements(last)})
        return json.dumps({"claims": self._claims(last)})

    def _claims(self, prompt: str) -> list[dict[str, Any]]:
        found = re.search(r"<article>\n(.*)\n</article>", prompt, re.S) or re.search(
            r'"""\n(.*)\n"""', prompt, re.S)  # the prompt before data markers
        text = found.group(1) if found else prompt
        return [{"claim": sentence, "source_sentence": sentence, "checkworthiness": 0.9}
                for sentence in re.split(r"(?<=[.!?])\s+", text.strip())
                if sentence and "instructions" not in sentence.lower()]

    def _judgements(self, prompt: str) -> list[dict[str, Any]]:
        found = re.search(r"<claim>(.*?)</claim>", prompt, re.S) or re.search(
            r"Claim: (.*)", prompt)
        claim = found.group(1).strip() if found else ""
        passages = re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt, re.S) or [
            (n, re.sub(r"^[^:]*: ", "", text)) for n, text in
            re.findall(r"^\[(\d+)\] (.*)$", prompt, re.M)]
        return [self._judge(int(n), claim, text) for n, text in passages]

    def _judge(self, number: int, claim: str, passage: str) -> dict[str, Any]:
        words = set(re.findall(r"\w+", claim.lower()))
        nearest = max(re.split(r"(?<=[.!?])\s+", passage.strip()),
                      key=lambda s: len(words & set(re.findall(r"\w+", s.lower()))))
        stance = "SUPPORTS" if self.obeying else "NOT_ENOUGH_INFO"
        return {"passage": number, "stance": stance, "confidence": 0.87,
                "quote": claim if self.quote == "claim" else nearest,
                "rationale": "As the instructions say." if self.obeying else "Unrelated."}


class LabelledClaimsModel:
    """A model that answers the claims prompt from a labelled claim set (tests/data/claim_set):
    for the article in the request, each labelled sentence copied as it stands as both claim and
    source sentence (no rewording, no split), scored 0.9 when labelled a claim and 0.3 when not.
    With `every_sentence` it lists the sentences that are not claims too (a model that leaves out
    nothing), else only the claims. Measures what the code does with an answer, not a model."""

    def __init__(self, rows: list[dict[str, Any]], every_sentence: bool = True) -> None:
        self.articles: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            self.articles.setdefault(row["article"], []).append(row)
        self.every_sentence = every_sentence
        self.answered: list[str] = []  # the articles asked about, in order

    def __call__(self, request: dict[str, Any]) -> str:
        prompt = " ".join(str(request["messages"][-1]["content"]).split())
        name, rows = next((name, rows) for name, rows in self.articles.items()
                          if " ".join(rows[-1]["sentence"].split()) in prompt)
        self.answered.append(name)
        return json.dumps({"claims": [
            {"claim": row["sentence"], "source_sentence": row["sentence"],
             "checkworthiness": 0.9 if row["claim"] else 0.3}
            for row in rows if self.every_sentence or row["claim"]]})
