import importlib


def test_package_imports_and_declares_public_names() -> None:
    module = importlib.import_module("igogo_jupyter")
    assert isinstance(module.__all__, list)
    assert module.__doc__
