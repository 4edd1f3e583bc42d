"""Hours and points service: the hours bank (学时银行) and the points bank (积分银行)."""
