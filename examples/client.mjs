// Both APIs from Node.js 18+ with the built-in fetch: balances, an OTP number, an energy
// order, and their statuses. Point EMULATOR_URL at a running emulator (default
// http://127.0.0.1:8080); against the vendors, the same code takes their base URLs.
//
//   node examples/client.mjs
//   EMULATOR_URL=http://emulator:8080 node examples/client.mjs

const BASE = (process.env.EMULATOR_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const XD247_URL = process.env.XD247_URL ?? `${BASE}/api/v1`; // vendor: https://247xd.com/api/v1
const USDTLOWFEE_URL = process.env.USDTLOWFEE_URL ?? BASE; // vendor: https://api.usdtlowfee.com
// The emulator's ready keys (emulator/data/default.json): xd-demo and ulf-demo.
const XD247_KEY = process.env.XD247_KEY ?? "247xd_3769736d6939931e6de10def20d9a2483134d0c1";
const USDTLOWFEE_KEY = process.env.USDTLOWFEE_KEY ?? "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4";

// The test OTP option whose SMS arrives at once, and a TRON address that completes.
const OTP_ORDER = {
  serviceId: "00000000-0000-4000-8000-000000000001",
  priceOptionId: "00000000-0000-4000-8000-000000000012",
};
const ENERGY_ORDER = {
  type: "manual",
  data: { tronAddress: "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", energyValue: 65000, durationHours: 1 },
};

// USDTLowFee ids are int64 numbers above 2^53: JSON.parse would round them and the next
// GET would ask for another order. Quote them before parsing, keep them as strings.
function parseExact(text) {
  return JSON.parse(text.replace(/("(?:id|userId)"\s*:\s*)(\d{16,})/g, '$1"$2"'));
}

async function call(method, url, authorization, body) {
  const headers = { Authorization: authorization };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return parseExact(text).data;
}

const xd247 = (method, path, body) => call(method, XD247_URL + path, `Bearer ${XD247_KEY}`, body);
const usdtlowfee = (method, path, body) =>
  call(method, USDTLOWFEE_URL + path, `ApiKey ${USDTLOWFEE_KEY}`, body);

console.log("247xd coins:", (await xd247("GET", "/balance")).coins);
const otp = await xd247("POST", "/otp/orders", OTP_ORDER);
console.log("OTP order", otp.orderId, "phone", otp.phoneNumber, otp.status);
const otpSeen = await xd247("GET", `/otp/orders/${otp.orderId}`);
console.log("OTP order status:", otpSeen.status, "code:", otpSeen.otpCode);

console.log("USDTLowFee balanceSun:", (await usdtlowfee("GET", "/v1/wallet/balance")).balanceSun);
const energy = await usdtlowfee("POST", "/v1/energy/orders", ENERGY_ORDER);
console.log("energy order", energy.id, "priceSun", energy.priceSun, energy.status);
const energySeen = await usdtlowfee("GET", `/v1/energy/orders/${energy.id}`);
console.log("energy order status:", energySeen.status);
