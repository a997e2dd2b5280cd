"""Run directories, metric logs, tables and figures."""
