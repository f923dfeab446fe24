// Package cache stores whole chat answers so that a repeated request is
// answered without calling a provider.
//
// The core pieces:
//
//   - Key, KeyFor and CustomKey name a cached answer. KeyFor is a SHA-256
//     over everything in an llm.Request that can change the answer, in a
//     namespace (the tenant), so tenants never share answers unless the
//     gateway gives them the same namespace.
//   - Entry is one cached answer with the facts the gateway reports about
//     it (model, provider, age); AppendBinary and DecodeEntry turn it into
//     bytes and back.
//   - Backend stores those bytes with a time to live: Memory (one process,
//     bounded in bytes, evicting) and Redis (shared by replicas).
//
// A backend never interprets the bytes it stores; a failed backend call is
// an error the gateway treats as a miss, never a reason to fail a request.
package cache
