// Command s3setup prepares an ossd (or any S3 endpoint) for bench/peer.sh
// through the S3 API (aws-sdk-go-v2, SigV4, path style):
//
//	s3setup -endpoint http://127.0.0.1:9500 -ak AK -sk SK mb BUCKET...
//	s3setup ... logging SOURCE TARGET PREFIX   # PutBucketLogging, then read it back
//	s3setup ... count BUCKET [PREFIX]          # prints "<objects> <bytes>"
//	s3setup ... loglines BUCKET [PREFIX]       # prints the number of lines in the log objects
//
// It is benchmark tooling only: not part of the server.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func main() {
	endpoint := flag.String("endpoint", "", "http://host:port")
	ak := flag.String("ak", os.Getenv("AK"), "access key id")
	sk := flag.String("sk", os.Getenv("SK"), "secret access key")
	region := flag.String("region", "us-east-1", "signing region (ossd accepts its own and us-east-1)")
	flag.Parse()
	if *endpoint == "" || flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: s3setup -endpoint URL -ak AK -sk SK mb|logging|policy|count|loglines ...")
		os.Exit(2)
	}
	c := s3.New(s3.Options{
		Region:       *region,
		Credentials:  credentials.NewStaticCredentialsProvider(*ak, *sk, ""),
		BaseEndpoint: aws.String(*endpoint),
		UsePathStyle: true,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, c, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "s3setup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *s3.Client, args []string) error {
	switch cmd, rest := args[0], args[1:]; cmd {
	case "mb":
		for _, b := range rest {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			var owned *types.BucketAlreadyOwnedByYou
			if err != nil && !errors.As(err, &owned) {
				return fmt.Errorf("CreateBucket %s: %w", b, err)
			}
		}
		return nil
	case "logging":
		if len(rest) != 3 {
			return errors.New("logging SOURCE TARGET PREFIX")
		}
		src, dst, prefix := rest[0], rest[1], rest[2]
		if _, err := c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(src),
			BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{
				TargetBucket: aws.String(dst), TargetPrefix: aws.String(prefix)}}}); err != nil {
			return fmt.Errorf("PutBucketLogging %s: %w", src, err)
		}
		g, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(src)})
		if err != nil {
			return fmt.Errorf("GetBucketLogging %s: %w", src, err)
		}
		if g.LoggingEnabled == nil || aws.ToString(g.LoggingEnabled.TargetBucket) != dst {
			return fmt.Errorf("GetBucketLogging %s: logging not on after PutBucketLogging", src)
		}
		return nil
	case "policy":
		if len(rest) != 2 {
			return errors.New("policy BUCKET FILE")
		}
		doc, err := os.ReadFile(rest[1])
		if err != nil {
			return err
		}
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(rest[0]), Policy: aws.String(string(doc))}); err != nil {
			return fmt.Errorf("PutBucketPolicy %s: %w", rest[0], err)
		}
		return nil
	case "count", "loglines":
		if len(rest) < 1 {
			return fmt.Errorf("%s BUCKET [PREFIX]", cmd)
		}
		in := &s3.ListObjectsV2Input{Bucket: aws.String(rest[0])}
		if len(rest) > 1 {
			in.Prefix = aws.String(rest[1])
		}
		var n, size, lines int64
		p := s3.NewListObjectsV2Paginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("ListObjectsV2 %s: %w", rest[0], err)
			}
			for _, o := range page.Contents {
				n++
				size += aws.ToInt64(o.Size)
				if cmd == "loglines" {
					k, err := countLines(ctx, c, rest[0], aws.ToString(o.Key))
					if err != nil {
						return err
					}
					lines += k
				}
			}
		}
		if cmd == "loglines" {
			fmt.Println(lines)
		} else {
			fmt.Println(n, size)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func countLines(ctx context.Context, c *s3.Client, bucket, key string) (int64, error) {
	o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("GetObject %s/%s: %w", bucket, key, err)
	}
	defer o.Body.Close()
	var n int64
	sc := bufio.NewScanner(o.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}
