"""Affiliations: which institution, country, sector and flags an author's affiliation stands for.

`Classifier` is the entry point; the rest are its parts (normalisation, country detection, the ROR
gazetteer, the watchlist and the military rules), each usable on its own.
"""

from tracer.affiliations.model import SECTORS, Affiliation, Flag

__all__ = ["SECTORS", "Affiliation", "Classifier", "Flag"]


def __getattr__(name: str) -> object:
    # Imported lazily so that `from tracer.affiliations import Flag` stays cheap.
    if name == "Classifier":
        from tracer.affiliations.classify import Classifier

        return Classifier
    raise AttributeError(name)
