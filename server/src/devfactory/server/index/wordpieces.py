"""WordLlama's tokenization, word by word with a cache: the same token ids, for less work.

WordLlama's tokenizer is Llama 2's SentencePiece BPE: the normalizer prepends ``▁`` and turns
spaces into ``▁``, and there is no pre-tokenizer, so BPE runs over a whole 1,500-character
chunk at once and its word cache never hits; that was half the time of embedding a workspace.

No vocabulary token holds ``▁`` after another character, and none longer than one character
holds a newline or a tab, so no merge ever joins a character to a following ``▁``, or anything
to a newline or a tab: the text splits before every ``▁`` that follows another character and
around newlines and tabs, and BPE over the whole is BPE over each piece, concatenated. Pieces
repeat (code reuses its words), so each is tokenized once. :meth:`WordPieces.fits` checks those
premises on the tokenizer actually loaded; texts holding an added token (``<s>``...), which
the tokenizer splits out before normalizing, go through the tokenizer itself.
"""

from __future__ import annotations

import json
import re
from array import array
from typing import Any

SPACE = "\u2581"  # ▁
ALONE = "\n\t"
"""Characters that no longer token holds: always a piece of their own."""
_PIECE = re.compile(f"[{ALONE}]|{SPACE}*[^{SPACE}{ALONE}]+|{SPACE}+")
MAX_VOCABULARY = 65_536
"""Token ids are kept in 16 bits (WordLlama's vocabulary has 32,000)."""
PIECE_CACHE = 131_072
"""Distinct pieces remembered (~20 MB at most; Django's 61k chunks hold 530k, most seen once)."""


class WordPieces:
    """Token ids of texts through ``tokenizer`` (a ``tokenizers.Tokenizer``), piece by piece."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._model = tokenizer.model
        self._added = [token.content for token in tokenizer.get_added_tokens_decoder().values()]
        self._cache: dict[str, bytes] = {}
        """Piece -> its ids as 16-bit bytes (a tuple of int objects took four times the room)."""

    @staticmethod
    def fits(tokenizer: Any) -> bool:
        """Whether the premises hold: BPE, no pre-tokenizer, the ▁ normalizer, no token with
        ▁ after another character or a newline or tab in a longer token, padding and
        truncation off. (Read from the tokenizer's parts: parsing its whole JSON, merges and
        all, left ~15 MB of freed objects in the daemon for good.)"""
        normalizer = tokenizer.normalizer
        expected = [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE},
        ]
        return (
            type(tokenizer.model).__name__ == "BPE"
            and tokenizer.pre_tokenizer is None
            and normalizer is not None
            and json.loads(normalizer.__getstate__())
            == {"type": "Sequence", "normalizers": expected}
            and tokenizer.padding is None
            and tokenizer.truncation is None
            and tokenizer.get_vocab_size() <= MAX_VOCABULARY
            and not any(_joins(token) for token in tokenizer.get_vocab())
        )

    def ids(self, text: str) -> array[int]:
        """What ``tokenizer.encode(text, add_special_tokens=False).ids`` returns, as 16-bit ids."""
        if any(token in text for token in self._added):
            return array("H", self._tokenizer.encode(text, add_special_tokens=False).ids)
        ids = array("H")
        if not text:
            return ids
        cache = self._cache
        for piece in _PIECE.findall(SPACE + text.replace(" ", SPACE)):
            known = cache.get(piece)
            if known is None:
                if len(cache) >= PIECE_CACHE:
                    cache.clear()  # cheaper than LRU bookkeeping on every hit
                tokens = array("H", [token.id for token in self._model.tokenize(piece)])
                known = cache[piece] = tokens.tobytes()
            ids.frombytes(known)
        return ids


def _joins(token: str) -> bool:
    """Whether ``token`` would join what the pieces keep apart."""
    return re.search(f"[^{SPACE}]{SPACE}", token) is not None or (
        len(token) > 1 and any(c in token for c in ALONE)
    )
