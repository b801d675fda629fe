# Thin aliases for the scripts; the scripts are the source of truth.
.PHONY: test bench ctest vectors deps
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
ctest:
	bash scripts/ctest.sh
vectors:
	python3 scripts/gen_vectors.py
deps:
	bash scripts/deps.sh --with-python
