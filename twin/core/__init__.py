"""The ground floor every other package may import: domain errors (:mod:`twin.core.errors`),
roles and who may see what (:mod:`twin.core.access`), and settings (:mod:`twin.core.settings`).

It imports nothing of ours but :mod:`layers`, and no web framework or command-line library
(checked by the import contracts in ``pyproject.toml``).
"""
