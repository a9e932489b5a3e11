"""247xd: Thai OTP numbers, social boosters, premium app accounts (`/api/v1`)."""
