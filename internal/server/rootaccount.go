package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/ossd/ossd/internal/meta"
)

// rootKey is the system record that holds the root account every node of
// one metadata store answers as.
const rootKey = "root-account"

// agreeRoot makes the nodes that share one metadata store agree on the
// root account. Bucket and object owners are account ids, so two nodes
// whose data directories each made up a root id would treat each other's
// buckets as another account's. The first node to start stores its root
// account; every later start adopts the stored id, and the stored key pair
// too when this data directory had none (generated reports that its pair
// was just made up), then keeps credentials.json in step so that the
// `ossd logs` commands sign with the pair the cluster accepts. A key pair
// given explicitly (OSS_ACCESS_KEY_ID/SECRET) is kept: the operator chose
// it for this node.
//
// On the embedded store this stores the data directory's own account on
// first start and changes nothing after.
func agreeRoot(ctx context.Context, m meta.Store, dataDir string, root User, generated bool, logger *slog.Logger) (User, bool, error) {
	var stored User
	err := m.Update(ctx, func(tx meta.Tx) error {
		stored = User{}
		raw, err := meta.GetSystem(tx, rootKey)
		if err != nil {
			return err
		}
		if raw != nil {
			return json.Unmarshal(raw, &stored)
		}
		out, err := json.Marshal(root)
		if err != nil {
			return err
		}
		stored = root
		return meta.PutSystem(tx, rootKey, out)
	})
	if err != nil {
		return root, generated, fmt.Errorf("root account in the metadata store: %w", err)
	}
	if stored.ID == "" {
		return root, generated, fmt.Errorf("root account in the metadata store has no id")
	}
	adopted := root
	adopted.ID, adopted.DisplayName = stored.ID, stored.ID
	if generated {
		adopted.AccessKeyID, adopted.AccessKeySecret = stored.AccessKeyID, stored.AccessKeySecret
		generated = stored.AccessKeyID == root.AccessKeyID
	} else if stored.AccessKeyID != root.AccessKeyID {
		logger.Warn("this node's root access key differs from the one the first node stored; each node accepts only its own",
			"node", root.AccessKeyID, "stored", stored.AccessKeyID)
	}
	if adopted != root {
		out, _ := json.MarshalIndent(adopted, "", "  ")
		if err := writeFileAtomic(filepath.Join(dataDir, "credentials.json"), out, 0o600); err != nil {
			return root, generated, fmt.Errorf("credentials.json: %w", err)
		}
	}
	return adopted, generated, nil
}
