"""Runnable tours of asynccloud (a package only so that the tests can import them)."""
