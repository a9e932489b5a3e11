"""USDTLowFee: TRON energy rental (`/v1`)."""
