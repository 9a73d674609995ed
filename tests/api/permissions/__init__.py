"""The permission matrix as data: one module per app, each declaring ROUTES (route name -> rows
of method, target, body and the expected outcome per persona); matrix.py holds the shared
vocabulary. tests/api/test_permission_matrix.py walks the URL resolver and runs every row."""
