"""Demo data at a CRO's scale (`seed_demo --scale cro`): bulk inserts of rows shaped as the
services would have written them (the rules of safety.rules decide each case's clocks), so the
pages and the benchmark see what a 300-trial CRO holds."""
