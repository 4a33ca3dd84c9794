"""System-test harness for cdhtd and cdht (see node.py, model.py, case.py)."""
