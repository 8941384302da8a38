"""Signatures, parameter constraints and docstrings tell the same story."""

import inspect
import re

import pytest

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST

ESTIMATORS = [
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    AutoencoderOutlierDetector,
]


def documented_names(cls, section):
    """Names listed in a numpydoc section (``name : type`` lines) of the class."""
    doc = inspect.getdoc(cls)
    match = re.search(rf"^{section}\n-+\n(.*?)(?=^\w[\w ]*\n-+\n|\Z)", doc, re.M | re.S)
    assert match, f"{cls.__name__} has no {section} section"
    return re.findall(r"^(\w+) :", match.group(1), re.M)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_signature_constraints_and_parameters_section_agree(cls):
    signature = list(inspect.signature(cls).parameters)
    assert signature == documented_names(cls, "Parameters")
    assert set(signature) == set(cls._parameter_constraints)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_parameters_after_the_first_are_keyword_only(cls):
    parameters = list(inspect.signature(cls).parameters.values())
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters[1:])


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_documented_attributes_exist_after_fit(cls, X_digits):
    if cls is AutoencoderOutlierDetector:
        estimator = cls(AutoencoderTransformer(**FAST))
    else:
        estimator = cls(**{**FAST, "early_stopping": True})
    estimator.fit(X_digits)
    for name in documented_names(cls, "Attributes"):
        if name == "feature_names_in_":
            continue  # set only when X has column names
        assert hasattr(estimator, name), name


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_public_method_has_a_docstring(cls):
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_"):
            assert inspect.getdoc(member), f"{cls.__name__}.{name}"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_shared_text_is_expanded_at_the_indentation_of_its_placeholder(cls):
    # the <<name>> lines of the class's and its methods' docstrings are replaced
    # by text from _docstrings, which must keep numpydoc's layout
    docs = [cls.__doc__] + [
        member.__doc__ for _, member in inspect.getmembers(cls, inspect.isfunction)
    ]
    for doc in filter(None, docs):
        assert "<<" not in doc
        lines = [line for line in doc.split("\n")[1:] if line.strip()]
        if not lines:
            continue  # a one-line docstring
        base = min(len(line) - len(line.lstrip()) for line in lines)
        for line in lines:
            if line.lstrip().startswith((">>>", "...")):
                # an example line stands at the docstring's own indentation
                assert len(line) - len(line.lstrip()) == base, line
