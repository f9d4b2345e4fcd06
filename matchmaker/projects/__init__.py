"""Technical-transformation projects (技改项目) and the bureau's project ledger (工作台账)."""
