// Seed 000 (247xd), section 10, the Node.js example word for word; only API_KEY,
// BASE_URL and the "..." placeholder ids are filled in by the test that runs it.
const API_KEY = "247xd_your_api_key_here";
const BASE_URL = "https://247xd.com/api/v1";

const headers = {
  Authorization: `Bearer ${API_KEY}`,
  "Content-Type": "application/json",
};

// ดูยอดเงิน
const balance = await fetch(`${BASE_URL}/balance`, { headers });
const { data } = await balance.json();
console.log(`เหรียญ: ${data.coins}`);

// สั่งซื้อ OTP
const order = await fetch(`${BASE_URL}/otp/orders`, {
  method: "POST",
  headers,
  body: JSON.stringify({
    serviceId: "...",
    priceOptionId: "...",
  }),
});
const result = await order.json();
console.log(`Order ID: ${result.data.orderId}`);
