"""Answering one API call: typed arguments, access, proxies, render, bind, run."""
