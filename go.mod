module github.com/ossd/ossd

go 1.26.8

require (
	github.com/aliyun/alibabacloud-oss-go-sdk-v2 v1.6.1
	github.com/aliyun/aliyun-oss-go-sdk v3.0.2+incompatible
	go.etcd.io/bbolt v1.4.3
)

require (
	golang.org/x/sys v0.29.0 // indirect
	golang.org/x/time v0.4.0 // indirect
	gopkg.in/check.v1 v1.0.0-20201130134442-10cb98267c6c // indirect
)
