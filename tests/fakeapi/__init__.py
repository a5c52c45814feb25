"""A fake Semantic Scholar + OpenAlex API for the tests: see server.py and corpus.py."""

from tests.fakeapi.corpus import Corpus, openalex_work, s2_paper
from tests.fakeapi.server import FakeApi

__all__ = ["Corpus", "FakeApi", "openalex_work", "s2_paper"]
