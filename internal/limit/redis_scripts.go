package limit

import "github.com/redis/go-redis/v9"

// The scripts keep time in microseconds since redisEpochUnix, as Lua numbers
// (doubles) hold whole microseconds exactly for ~285 years while nanoseconds
// since 1970 would not fit. Stored values are written with %.0f, because
// Lua's default number formatting keeps only 14 digits. Every script reads
// the clock from redis.call('TIME') unless its clock argument is non-empty
// (tests inject time that way); Redis ≥ 5 replicates script effects, so the
// non-deterministic TIME is allowed before writes.

// redisEpochUnix is 2024-01-01T00:00:00Z in Unix seconds.
const redisEpochUnix = 1704067200

const luaClock = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return (tonumber(t[1]) - 1704067200) * 1000000 + tonumber(t[2])
end
`

// luaLoad reads a bucket "tat:frac" and normalises it like gcra.norm.
const luaLoad = `
local function load(key, now, lim)
  local tat, frac = now, 0
  local v = redis.call('GET', key)
  if v then
    local a, b = string.match(v, '^(%-?%d+):(%d+)$')
    if a then tat, frac = tonumber(a), tonumber(b) end
  end
  if tat < now then return now, 0 end
  if frac >= lim then return tat + 1, 0 end
  return tat, frac
end
local function store(key, tat, frac, now)
  if tat > now or frac > 0 then
    redis.call('SET', key, string.format('%.0f:%.0f', tat, frac), 'PX', math.floor((tat - now) / 1000) + 1)
  else
    redis.call('DEL', key)
  end
end
`

// allowScript: KEYS[1] bucket; ARGV q, r, limit, capQ, capR (the capacity
// burst·period/limit as gcra keeps it, computed in Go where 128-bit products
// are exact), tooBig ('1' or '0'), clock, maxDebt. Mirrors Memory.Allow;
// returns {allowed, tat − now, frac} of the stored state (after the take if
// allowed, before otherwise).
var allowScript = redis.NewScript(luaClock + luaLoad + `
local q, r, lim = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local capq, capr = tonumber(ARGV[4]), tonumber(ARGV[5])
local maxdebt = tonumber(ARGV[8])
local now = clock(ARGV[7])
local tat, frac = load(KEYS[1], now, lim)
local nt, nf = tat + q, frac + r
if nf >= lim then nt, nf = nt + 1, nf - lim end
if nt - now > maxdebt then nt, nf = now + maxdebt, 0 end
local d = nt - now
if ARGV[6] ~= '0' or d > capq or (d == capq and nf > capr) then
  return {0, tat - now, frac}
end
if q > 0 or r > 0 then store(KEYS[1], nt, nf, now) end
return {1, d, nf}
`)

// adjustScript: KEYS[1] bucket; ARGV q, r, limit, sign ('1' takes, '-1'
// gives back), clock, maxDebt. Mirrors Memory.Adjust.
var adjustScript = redis.NewScript(luaClock + luaLoad + `
local q, r, lim = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local maxdebt = tonumber(ARGV[6])
local now = clock(ARGV[5])
local tat, frac = load(KEYS[1], now, lim)
if ARGV[4] == '1' then
  tat, frac = tat + q, frac + r
  if frac >= lim then tat, frac = tat + 1, frac - lim end
  if tat - now > maxdebt then tat, frac = now + maxdebt, 0 end
else
  tat, frac = tat - q, frac - r
  if frac < 0 then tat, frac = tat - 1, frac + lim end
  if tat < now then tat, frac = now, 0 end
end
store(KEYS[1], tat, frac, now)
return 1
`)

// acquireScript: KEYS[1] sorted set of leases scored by start time; ARGV
// max, lease (µs), member, clock. Expired leases are dropped first; the set
// itself expires one lease after the last Acquire. Returns 1 or 0.
var acquireScript = redis.NewScript(luaClock + `
local max, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = clock(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - lease))
if redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(lease / 1000))
return 1
`)

// releaseScript: KEYS[1] lease set; ARGV lease (µs), clock. Drops expired
// leases, then the oldest live one. Returns the number removed by the pop.
var releaseScript = redis.NewScript(luaClock + `
local lease = tonumber(ARGV[1])
local now = clock(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - lease))
local popped = redis.call('ZPOPMIN', KEYS[1])
return #popped / 2
`)
