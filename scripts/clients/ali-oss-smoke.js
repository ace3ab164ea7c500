#!/usr/bin/env node
// Smoke test of the Node.js OSS SDK (ali-oss, pinned in package.json) against
// a running ossd: path-style and IP/Host-header addressing, V4 and V1 signing.
//
//   npm ci --prefix scripts/clients
//   OSSD_ENDPOINT=http://127.0.0.1:9800 OSSD_KEY_ID=... OSSD_KEY_SECRET=... \
//     node scripts/clients/ali-oss-smoke.js
//
// Environment:
//   OSSD_ENDPOINT    http://127.0.0.1:PORT of ossd (required)
//   OSSD_KEY_ID      access key id (required)
//   OSSD_KEY_SECRET  access key secret (required)
//   OSSD_REGION      region ossd answers as (default cn-hangzhou)
//   OSSD_BUCKET      bucket name prefix (default ali-oss-smoke-<random>);
//                    "-<addressing>-<sign>" is appended per run
//   OSSD_ADDRESSING  "path", "ip" or "path ip" (default), see client() below
//   OSSD_SIGN        "v4", "v1" or "v4 v1" (default)
//   OSSD_DEBUG=1     print stack traces
//
// For each addressing style and signature version: create a bucket, list
// buckets, put/get/head/list/delete an object, a multipart upload
// (multipartUpload, 100 KiB parts), put/get/delete bucket logging, delete
// the bucket. Exits 1 with the failing step, the error code, HTTP status and
// request id on the first failure; 2 on bad environment.
'use strict';

const crypto = require('crypto');
const OSS = require('ali-oss');

function env(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (def === undefined) {
      console.error(`ali-oss-smoke: ${name} is not set`);
      process.exit(2);
    }
    return def;
  }
  return v;
}

const endpoint = env('OSSD_ENDPOINT');
const accessKeyId = env('OSSD_KEY_ID');
const accessKeySecret = env('OSSD_KEY_SECRET');
const region = env('OSSD_REGION', 'cn-hangzhou');
const bucketPrefix = env('OSSD_BUCKET', `ali-oss-smoke-${crypto.randomBytes(4).toString('hex')}`);
const signs = env('OSSD_SIGN', 'v4 v1').split(/[\s,]+/).filter(Boolean);
const addressings = env('OSSD_ADDRESSING', 'path ip').split(/[\s,]+/).filter(Boolean);

// Constructor options that work against ossd on 127.0.0.1:PORT.
//
// path: endpoint http://localhost:PORT + sldEnable: true. sldEnable puts the
//   bucket in the path (http://localhost:PORT/<bucket>/<key>, Host:
//   localhost:PORT). The endpoint must be a host name: for an IP endpoint
//   ali-oss always overrides the Host header (see ip), so sldEnable with
//   127.0.0.1 sends the bucket twice (Host and path) and fails.
// ip: endpoint http://127.0.0.1:PORT, no sldEnable/cname. ali-oss then sends
//   the request to the IP with path /<key> and sets the Host header to
//   <bucket>.oss-<region>.aliyuncs.com (virtual-hosted by Host header), which
//   ossd accepts because oss-<region>.aliyuncs.com is one of its domains.
//   listBuckets sends Host: .oss-<region>.aliyuncs.com (empty bucket label).
//
// Both: region 'oss-cn-hangzhou' (the ali-oss form: V4 signs with
// "cn-hangzhou" and ip derives the Host from it), secure: false (http),
// authorizationV4: true for OSS4-HMAC-SHA256, false (default) for V1.
function endpointFor(addressing) {
  const u = new URL(endpoint);
  if (addressing === 'path' && u.hostname === '127.0.0.1') u.hostname = 'localhost';
  if (addressing === 'ip' && u.hostname === 'localhost') u.hostname = '127.0.0.1';
  return u.origin;
}

function client(addressing, sign) {
  return new OSS({
    endpoint: endpointFor(addressing),
    region: `oss-${region}`,
    accessKeyId,
    accessKeySecret,
    sldEnable: addressing === 'path',
    secure: endpoint.startsWith('https:'),
    authorizationV4: sign === 'v4',
    timeout: 15000
  });
}

class StepError extends Error {}

function check(cond, msg) {
  if (!cond) throw new StepError(msg);
}

function describe(err) {
  if (err instanceof StepError) return err.message;
  const parts = [`${err.name || 'Error'}: ${err.message}`];
  if (err.code) parts.push(`code=${err.code}`);
  if (err.status) parts.push(`status=${err.status}`);
  if (err.requestId) parts.push(`requestId=${err.requestId}`);
  if (err.params && err.params.method) parts.push(`request=${err.params.method} ${err.params.object || ''}`);
  return parts.join(' ');
}

async function step(sign, name, fn) {
  const t0 = Date.now();
  try {
    const r = await fn();
    console.log(`ok   ${sign} ${name} (${Date.now() - t0} ms)`);
    return r;
  } catch (err) {
    console.error(`FAIL ${sign} ${name}: ${describe(err)}`);
    if (process.env.OSSD_DEBUG && err.stack) console.error(err.stack);
    process.exit(1);
  }
}

async function expectStatus(fn, status, code) {
  try {
    await fn();
  } catch (err) {
    check(err.status === status, `want HTTP ${status} ${code || ''}, got ${describe(err)}`);
    if (code) check(err.code === code, `want code ${code}, got ${describe(err)}`);
    return;
  }
  throw new StepError(`want HTTP ${status} ${code || ''}, got success`);
}

async function run(addressing, sig) {
  const sign = `${addressing}-${sig}`;
  const c = client(addressing, sig);
  const bucket = `${bucketPrefix}-${sign}`.toLowerCase();
  const key = 'dir/hello world+ü.txt';
  const body = Buffer.from(`hello from ali-oss ${sign}\n`);
  const bigKey = 'multipart/big.bin';
  const big = crypto.randomBytes(350 * 1024); // 4 parts of 100 KiB (last 50 KiB)
  const md5 = b => crypto.createHash('md5').update(b).digest('hex');

  await step(sign, 'putBucket', async () => {
    const r = await c.putBucket(bucket);
    check(r.res.status === 200, `status ${r.res.status}`);
  });
  c.useBucket(bucket);

  await step(sign, 'listBuckets', async () => {
    const r = await c.listBuckets({ prefix: bucketPrefix });
    const names = (r.buckets || []).map(b => b.name);
    check(names.includes(bucket), `buckets ${JSON.stringify(names)}`);
  });

  await step(sign, 'getBucketInfo', async () => {
    const r = await c.getBucketInfo(bucket);
    check(r.bucket && r.bucket.Name === bucket, `Bucket.Name = ${r.bucket && r.bucket.Name}`);
  });

  await step(sign, 'put', async () => {
    const r = await c.put(key, body, { headers: { 'Content-Type': 'text/plain' }, meta: { smoke: 'yes' } });
    check(r.res.status === 200, `status ${r.res.status}`);
    check(r.name === key, `name ${r.name}`);
  });

  await step(sign, 'get', async () => {
    const r = await c.get(key);
    check(Buffer.compare(r.content, body) === 0, `content ${JSON.stringify(String(r.content))}`);
  });

  await step(sign, 'head', async () => {
    const r = await c.head(key);
    check(r.status === 200, `status ${r.status}`);
    check(Number(r.res.headers['content-length']) === body.length, `content-length ${r.res.headers['content-length']}`);
    check(r.res.headers['content-type'] === 'text/plain', `content-type ${r.res.headers['content-type']}`);
    check(r.meta && r.meta.smoke === 'yes', `meta ${JSON.stringify(r.meta)}`);
    check(
      String(r.res.headers.etag).toLowerCase() === `"${md5(body)}"`,
      `etag ${r.res.headers.etag}, want "${md5(body)}"`
    );
  });

  await step(sign, 'list', async () => {
    const r = await c.list({ prefix: 'dir/', 'max-keys': 10 });
    const names = (r.objects || []).map(o => o.name);
    check(names.length === 1 && names[0] === key, `objects ${JSON.stringify(names)}`);
    check(r.objects[0].size === body.length, `size ${r.objects[0].size}`);
  });

  await step(sign, 'listV2', async () => {
    const r = await c.listV2({ prefix: 'dir/', 'max-keys': 10 });
    const names = (r.objects || []).map(o => o.name);
    check(names.length === 1 && names[0] === key, `objects ${JSON.stringify(names)}`);
  });

  await step(sign, 'delete', async () => {
    const r = await c.delete(key);
    check(r.res.status === 204, `status ${r.res.status}`);
  });

  await step(sign, 'get after delete (404 NoSuchKey)', () =>
    expectStatus(() => c.get(key), 404, 'NoSuchKey')
  );

  await step(sign, 'multipartUpload (partSize 100 KiB)', async () => {
    let calls = 0;
    const r = await c.multipartUpload(bigKey, big, { partSize: 100 * 1024, parallel: 2, progress: () => { calls++; } });
    check(r.res.status === 200, `status ${r.res.status}`);
    check(calls >= 4, `progress called ${calls} times, want >= 4 (4 parts)`);
  });

  await step(sign, 'get multipart object', async () => {
    const r = await c.get(bigKey);
    check(r.content.length === big.length, `length ${r.content.length}, want ${big.length}`);
    check(md5(r.content) === md5(big), 'content differs from what was uploaded');
    check(/-4"?$/.test(String(r.res.headers.etag)), `etag ${r.res.headers.etag}, want a multipart ETag ending in -4`);
  });

  await step(sign, 'deleteMulti', async () => {
    const r = await c.deleteMulti([bigKey], { quiet: false });
    check(r.deleted && r.deleted.length === 1, `deleted ${JSON.stringify(r.deleted)}`);
  });

  await step(sign, 'putBucketLogging', async () => {
    const r = await c.putBucketLogging(bucket, 'smoke-log/');
    check(r.res.status === 200, `status ${r.res.status}`);
  });

  await step(sign, 'getBucketLogging', async () => {
    const r = await c.getBucketLogging(bucket);
    check(r.enable === true, `enable ${r.enable}`);
    check(r.prefix === 'smoke-log/', `prefix ${r.prefix}`);
  });

  await step(sign, 'deleteBucketLogging', async () => {
    const r = await c.deleteBucketLogging(bucket);
    check(r.res.status === 204 || r.res.status === 200, `status ${r.res.status}`);
    const g = await c.getBucketLogging(bucket);
    check(g.enable === false, `after delete: enable ${g.enable}`);
  });

  await step(sign, 'deleteBucket', async () => {
    // Logging may have written access-log objects into the bucket; remove them.
    const l = await c.list({ 'max-keys': 1000 });
    const names = (l.objects || []).map(o => o.name);
    if (names.length) await c.deleteMulti(names, { quiet: true });
    const r = await c.deleteBucket(bucket);
    check(r.res.status === 204, `status ${r.res.status}`);
  });

  await step(sign, 'getBucketInfo after delete (404 NoSuchBucket)', () =>
    expectStatus(() => c.getBucketInfo(bucket), 404, 'NoSuchBucket')
  );
}

(async () => {
  const version = require('ali-oss/package.json').version;
  console.log(`ali-oss ${version} against ${endpoint} (region ${region}; ${addressings.join(' ')} x ${signs.join(' ')})`);
  for (const a of addressings) {
    if (a !== 'path' && a !== 'ip') {
      console.error(`ali-oss-smoke: OSSD_ADDRESSING: unknown addressing style ${a}`);
      process.exit(2);
    }
  }
  for (const s of signs) {
    if (s !== 'v1' && s !== 'v4') {
      console.error(`ali-oss-smoke: OSSD_SIGN: unknown signature version ${s}`);
      process.exit(2);
    }
  }
  for (const a of addressings) {
    for (const s of signs) await run(a, s);
  }
  console.log('ali-oss smoke: all steps passed');
})().catch(err => {
  console.error(`ali-oss-smoke: ${err.stack || err}`);
  process.exit(1);
});
