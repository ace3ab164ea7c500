#!/usr/bin/env python3
"""Counts the failures of a ceph/s3-tests run by cause.

    python3 scripts/s3-tests/causes.py OUT/results.tsv [-v]

results.tsv is what scripts/s3-tests/run.sh keeps with OUT=dir. Each failing
test is put under the first cause whose rule matches its name or message;
"other" lists what no rule covers (a new failure to look at). -v lists every
test under its cause.
"""
import sys, re, collections
rows=[l.rstrip('\n').split('\t') for l in open(sys.argv[1])]
cats=collections.OrderedDict()
def cause(name,msg):
    m=msg
    if 'ParamValidationError' in m or name in ('test_list_buckets_paginated','test_bucket_list_prefix_unreadable'):
        return 'boto3/botocore 1.26/1.29 (Debian) predates a parameter or decoding the test uses'
    if 'object_lock' in name or 'ObjectLock' in m or 'retention' in name.lower() or 'legal_hold' in name:
        return 'Object Lock (not served; OSS has WORM instead)'
    if 'ownership' in name or 'OwnershipControls' in m or 'ObjectOwnership' in m or "KeyError: 'Rules'" in m:
        return 'Object Ownership controls (not served)'
    if 'tenant' in name:
        return 'RGW tenants ("tenant:bucket" names, tenant principals)'
    if 'existing_tag' in name:
        return 'bucket policy conditions on object tags (s3:ExistingObjectTag; served for the tagging operations since 389: a failure here is a regression, see e2e/TestBucketPolicyObjectTag)'
    if 'policy_status' in name and 'NoSuchBucketPolicy' in m:
        return 'GetBucketPolicyStatus without a policy: NoSuchBucketPolicy (AWS); RGW reports IsPublic from the ACL'
    if name in ('test_bucket_policy_put_obj_copy_source', 'test_bucket_policy_put_obj_copy_source_meta', 'test_bucket_policy_put_obj_grant'):
        return "object ownership: S3 gives an object to its writer, ossd's bucket owner owns every object"
    if ('public_block' in name or 'block_public' in name) and ('polic' in name or 'Policy' in m):
        return "S3's four Block Public Access settings (served since 389: a failure here is a regression; see e2e/TestS3PublicAccessBlockFlags)"
    if 'policy' in name or 'Policy' in m:
        return 'bucket policies: other'
    if name == 'test_object_copy_not_owned_object_bucket' or re.search(r'acl_grant|header_acl_grants|acl_revoke|acl_read|acl_write|acl_full_control|grant_email|grant_nonexist|grant_userid', name):
        return "S3 grants: by e-mail (ossd's accounts have none; grants are listed groups first since 390: another failure here is a regression)"
    if 'authenticatedread' in name or 'bucketowner' in name or 'authenticated-read' in m or 'block_public_object_canned' in name or 'block_public_put_bucket_acls' in name:
        return "canned ACLs S3 has and OSS lacks (authenticated-read, bucket-owner-*; ossd keeps them as grants)"
    if name.startswith('test_access_bucket_'):
        return "OSS's ACL model: an object without its own ACL inherits the bucket's (S3: private to its writer)"
    if 'public_block' in name or 'ignore_public_acls' in name:
        return "S3's four Block Public Access settings (served since 389: a failure here is a regression; see e2e/TestS3PublicAccessBlockFlags)"
    if 'rgw' in m.lower() or name in ('test_account_usage','test_head_bucket_usage','test_bucket_head_extended','test_bucket_list_unordered','test_bucket_listv2_unordered','test_get_object_torrent'):
        return 'RGW-only behaviour (x-rgw-* headers, usage, unordered listing, torrent)'
    if 'x_amz_expires_out' in name or 'authenticated_expired' in name:
        return 'presigned URL with X-Amz-Expires out of range: 400 AuthorizationQueryParametersError (as AWS) where the suite expects 403'
    if 'checksum' in name:
        return 'S3 checksums beyond whole-object ones (multipart/composite checksums, attribute checksums)'
    if 'recreate' in name:
        return "re-creating one's own bucket succeeds (OSS) where RGW answers BucketAlreadyExists"
    if 'naming_good_contains_period' in name:
        return "bucket names with '.' (OSS's naming rules forbid them)"
    known = {
        'test_multipart_upload': 'completing an upload a second time (RGW answers 200 again)',
        'test_multipart_upload_small': 'completing an upload a second time (RGW answers 200 again)',
        'test_versioning_bucket_atomic_upload_return_version_id': 'VersionId null reported for a bucket with versioning suspended',
        'test_versioning_bucket_multipart_upload_return_version_id': 'VersionId null reported for a bucket with versioning suspended',
        'test_post_object_escaped_field_values': "a key starting with a backslash (OSS's key rules)",
        'test_list_buckets_anonymous': 'anonymous ListBuckets refused (OSS, AWS); RGW lists nothing',
        'test_multipart_copy_invalid_range': 'UploadPartCopy range past the source: InvalidArgument (AWS); RGW InvalidRange',
        'test_cors_origin_response': "CORS rules matched on a non-preflight request's Access-Control-Request-Method (RGW)",
        'test_multipart_resend_first_finishes_last': 'a completion list naming one part number twice (RGW takes the last)',
        'test_versioning_multi_object_delete_with_marker_create': 'no delete marker for a key that never existed',
        'test_put_obj_with_tags': 'object tags read back in the order given (RGW sorts them)',
        'test_delete_marker_nonversioned': 'x-amz-delete-marker: false on a 404 in an unversioned bucket (RGW)',
    }
    return known.get(name, 'other')
for n,s,m in (r if len(r)==3 else r+['']*(3-len(r)) for r in rows):
    if s!='failed': continue
    cats.setdefault(cause(n,m),[]).append(n)
for c,ns in sorted(cats.items(), key=lambda x:-len(x[1])):
    print(len(ns), c)
    if c == 'other' or '-v' in sys.argv:
        for n in ns: print('    ',n)
