# Seed 000 (247xd), section 10, the Python example word for word; only API_KEY,
# BASE_URL and the "..." placeholder ids are filled in by the test that runs it.
import requests

API_KEY = "247xd_your_api_key_here"
BASE_URL = "https://247xd.com/api/v1"
HEADERS = {"Authorization": f"Bearer {API_KEY}"}

# ดูยอดเงิน
balance = requests.get(f"{BASE_URL}/balance", headers=HEADERS).json()
print(f"เหรียญ: {balance['data']['coins']}")

# ดูบริการ OTP
services = requests.get(f"{BASE_URL}/otp/services", headers=HEADERS).json()

# สั่งซื้อ OTP
order = requests.post(f"{BASE_URL}/otp/orders", headers=HEADERS, json={
    "serviceId": "...",
    "priceOptionId": "..."
}).json()

# ตรวจสอบสถานะ
order_id = order["data"]["orderId"]
status = requests.get(
    f"{BASE_URL}/otp/orders/{order_id}", headers=HEADERS
).json()
print(f"สถานะ: {status['data']['status']}")
