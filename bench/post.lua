-- wrk script: POST the JSON body in env BENCH_BODY with the Authorization in BENCH_AUTH.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
