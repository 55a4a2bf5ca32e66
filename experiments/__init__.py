"""Research scripts behind the defaults and the measured variants (docs/decisions.md, docs/variants.md). They
live outside the installed package and use only its public API; each is run from the repository root as
``python -m experiments.<name>``, and a script that writes results writes them into ``results/<name>/`` when
rerun (the folders of past runs are condensed into docs/variants.md)."""
