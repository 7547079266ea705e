package k8stest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Image is an image FROM scratch made of files from the host, written as
// an archive `ctr images import` reads (the `docker save` layout: one
// uncompressed layer, a config, manifest.json naming the image), so that
// no daemon, registry or base image is needed.
type Image struct {
	// Name is the image's reference, e.g. "snmpchaos/simagent:dev".
	Name string
	// Files maps a path in the image to a file on the host; each is
	// written executable, owned by root.
	Files map[string]string
	// Entrypoint and User are the image config's.
	Entrypoint []string
	User       string
}

// WriteArchive writes the image's archive to file.
func (im Image) WriteArchive(file string) error {
	layer, err := im.layer()
	if err != nil {
		return err
	}
	diffID := sha256.Sum256(layer)
	cfg, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": im.Entrypoint, "User": im.User},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
	})
	if err != nil {
		return err
	}
	cfgID := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(cfgID[:]) + ".json"
	layerName := hex.EncodeToString(diffID[:]) + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{im.Name}, "Layers": []string{layerName}}})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{cfgName, cfg}, {layerName, layer}, {"manifest.json", manifest}} {
		if d := path.Dir(f.name); d != "." {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// layer is the image's one layer: its files, as a tar.
func (im Image) layer() ([]byte, error) {
	var names []string
	for n := range im.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		b, err := os.ReadFile(im.Files[n])
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", im.Name, err)
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Clean("/" + n)[1:], Mode: 0o755, Size: int64(len(b))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SimagentImage builds cmd/simagent (static, CGO_ENABLED=0) into dir and
// returns the image k8s mode's pods run, named name: the simagent binary
// alone, FROM scratch, as k8s/Dockerfile makes it.
func SimagentImage(ctx context.Context, dir, name string) (Image, error) {
	mod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return Image{}, fmt.Errorf("go env GOMOD: %w", err)
	}
	bin := filepath.Join(dir, "simagent")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/simagent")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Image{}, fmt.Errorf("build simagent: %w: %s", err, out)
	}
	return Image{Name: name, Files: map[string]string{"/simagent": bin}, Entrypoint: []string{"/simagent"}, User: "65532:65532"}, nil
}
