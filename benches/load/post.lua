-- wrk script: POST the bytes of $WRK_BODY with $WRK_CTYPE, optional
-- $WRK_ACCEPT_ENCODING; prints one JSON line of figures at the end.
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("WRK_CTYPE") or "text/xml"
local ae = os.getenv("WRK_ACCEPT_ENCODING")
if ae and ae ~= "" then wrk.headers["Accept-Encoding"] = ae end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"socket_errors":%d,"bad_status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
