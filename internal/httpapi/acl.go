package httpapi

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// S3 ACLs beyond canned ones: x-amz-grant-* headers and AccessControlPolicy
// bodies are parsed here into grants; service decides what they allow.

// grantHeaders pairs each x-amz-grant-* header with its permission. Header
// grants are stored in this order (HTTP keeps no order across header
// names), the one RGW uses and ceph/s3-tests expects.
var grantHeaders = []struct{ header, perm string }{
	{"X-Amz-Grant-Read", service.PermRead},
	{"X-Amz-Grant-Write", service.PermWrite},
	{"X-Amz-Grant-Read-Acp", service.PermReadACP},
	{"X-Amz-Grant-Write-Acp", service.PermWriteACP},
	{"X-Amz-Grant-Full-Control", service.PermFullControl},
}

// accountIDs is implemented by account tables that can tell whether an
// account id exists (the canonical users a grant may name).
type accountIDs interface{ HasAccount(id string) bool }

func (h *Handler) knownAccount(id string) bool {
	a, ok := h.cfg.Accounts.(accountIDs)
	return ok && a.HasAccount(id)
}

// requestGrants reads an S3 request's ACL given in headers: the canned ACL
// in cannedHeader (already mapped to its x-oss-* twin) or x-amz-grant-*
// headers. It returns the canned ACL to store and, when the request
// grants more than a canned OSS ACL can say, the grants (the canned ACL
// is then their nearest). owner is who owns the bucket or object the ACL
// is for (grants to "the owner" in canned ACLs name it).
func (h *Handler) requestGrants(rq *request, cannedHeader, owner string) (canned string, grants []service.Grant, err error) {
	canned = rq.r.Header.Get(cannedHeader)
	if !rq.s3 {
		return canned, nil, nil
	}
	for _, gh := range grantHeaders {
		for _, v := range rq.r.Header.Values(gh.header) {
			gs, err := parseGrantHeader(v, gh.perm)
			if err != nil {
				return "", nil, err
			}
			grants = append(grants, gs...)
		}
	}
	switch {
	case grants != nil && canned != "":
		return "", nil, oss.ErrS3CannedAndGrants
	case grants != nil:
		if err := h.checkGrants(grants); err != nil {
			return "", nil, err
		}
		return service.NearestCanned(grants), grants, nil
	case service.GrantOnlyACL(canned, cannedHeader == "x-oss-object-acl"):
		bucketOwner := owner
		if rq.b != nil {
			bucketOwner = rq.b.Owner
		}
		grants = service.OwnerGrants(canned, owner, bucketOwner)
		return service.NearestCanned(grants), grants, nil
	}
	return canned, nil, nil
}

// parseGrantHeader parses one x-amz-grant-* value: a comma-separated list
// of id="…", uri="…" or emailAddress="…".
func parseGrantHeader(v, perm string) ([]service.Grant, error) {
	var out []service.Grant
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, oss.ErrInvalidArgument.WithMessage("Invalid grant header value").With("ArgumentName", "x-amz-grant").With("ArgumentValue", v)
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "id":
			out = append(out, service.Grant{Type: service.GranteeUser, ID: val, Permission: perm})
		case "uri":
			out = append(out, service.Grant{Type: service.GranteeGroup, URI: val, Permission: perm})
		case "emailaddress":
			return nil, oss.ErrUnresolvableGrantByEmail.With("EmailAddress", val)
		default:
			return nil, oss.ErrInvalidArgument.WithMessage("Invalid grant header value").With("ArgumentName", "x-amz-grant").With("ArgumentValue", v)
		}
	}
	return out, nil
}

// checkGrants validates grants against ossd's accounts.
func (h *Handler) checkGrants(grants []service.Grant) error {
	return service.CheckGrants(grants, h.knownAccount)
}

// policyXML is an AccessControlPolicy, as read and as written.
type policyXML struct {
	XMLName xml.Name   `xml:"AccessControlPolicy"`
	Owner   ownerXML   `xml:"Owner"`
	Grants  []grantXML `xml:"AccessControlList>Grant"`
}

type grantXML struct {
	Grantee    granteeXML `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type granteeXML struct {
	XSI   string `xml:"xmlns:xsi,attr"`
	Type  string `xml:"xsi:type,attr"`
	ID    string `xml:"ID,omitempty"`
	Name  string `xml:"DisplayName,omitempty"`
	URI   string `xml:"URI,omitempty"`
	Email string `xml:"EmailAddress,omitempty"`
}

// readPolicyXML is policyXML for decoding: the grantee's type attribute is
// matched in any namespace (clients write xsi:type with the
// XMLSchema-instance prefix).
type readPolicyXML struct {
	Grants []struct {
		Grantee struct {
			Type  string `xml:"type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// bodyGrants reads a Put*Acl AccessControlPolicy body into grants, with
// S3's errors: MalformedACLError for a document S3 would not accept,
// InvalidArgument for an unknown grantee, UnresolvableGrantByEmailAddress
// for a grant by e-mail (ossd's accounts have none).
func (h *Handler) bodyGrants(rq *request) ([]service.Grant, error) {
	var p readPolicyXML
	if err := h.decodeXML(rq, "AccessControlPolicy", &p, oss.ErrMalformedACL); err != nil {
		return nil, err
	}
	grants := []service.Grant{}
	for _, g := range p.Grants {
		t := g.Grantee.Type
		if t == "" { // untyped: tell by the element given
			switch {
			case g.Grantee.ID != "":
				t = service.GranteeUser
			case g.Grantee.URI != "":
				t = service.GranteeGroup
			case g.Grantee.Email != "":
				t = "AmazonCustomerByEmail"
			}
		}
		switch t {
		case service.GranteeUser:
			grants = append(grants, service.Grant{Type: t, ID: g.Grantee.ID, Permission: g.Permission})
		case service.GranteeGroup:
			grants = append(grants, service.Grant{Type: t, URI: g.Grantee.URI, Permission: g.Permission})
		case "AmazonCustomerByEmail":
			if !service.ValidPermission(g.Permission) {
				return nil, oss.ErrMalformedACL
			}
			return nil, oss.ErrUnresolvableGrantByEmail.With("EmailAddress", g.Grantee.Email)
		default:
			return nil, oss.ErrMalformedACL
		}
	}
	if err := h.checkGrants(grants); err != nil {
		return nil, err
	}
	return grants, nil
}

// putACL reads a Put*Acl request: the canned ACL (header), header grants,
// or for S3 an AccessControlPolicy body. grants nil means canned only.
func (h *Handler) putACL(rq *request, header, owner string) (canned string, grants []service.Grant, err error) {
	canned, grants, err = h.requestGrants(rq, header, owner)
	if err != nil || canned != "" || grants != nil || !rq.s3 {
		return canned, grants, err
	}
	grants, err = h.bodyGrants(rq)
	if err != nil {
		return "", nil, err
	}
	return service.NearestCanned(grants), grants, nil
}

// writeACL answers an ACL read: OSS's canned-ACL document (the nearest
// canned ACL when S3 grants were set), or for S3 the grants as written
// (groups listed first, service.ListedGrants), or the grants the canned
// ACL stands for.
func (h *Handler) writeACL(rq *request, acl string, grants []service.Grant) error {
	if !rq.s3 {
		return h.writeXML(rq, http.StatusOK, aclXML{Owner: h.owner(rq.b.Owner), Grant: acl})
	}
	if grants == nil {
		if acl == service.ACLDefault {
			acl, grants = rq.b.ACL, rq.b.Grants
		}
		if grants == nil {
			grants = service.CannedGrants(acl, rq.b.Owner)
		}
	}
	const xsi = "http://www.w3.org/2001/XMLSchema-instance"
	p := policyXML{Owner: h.owner(rq.b.Owner), Grants: []grantXML{}}
	for _, g := range service.ListedGrants(grants) {
		ge := granteeXML{XSI: xsi, Type: g.Type, ID: g.ID, URI: g.URI}
		if g.Type == service.GranteeUser {
			ge.Name = g.ID // ossd's display name is the account id
		}
		p.Grants = append(p.Grants, grantXML{Grantee: ge, Permission: g.Permission})
	}
	return h.writeXML(rq, http.StatusOK, p)
}
