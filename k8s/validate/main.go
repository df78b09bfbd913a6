// Command k8s-validate renders kustomizations and validates every rendered object, offline.
//
// It exists because the usual validators (kubeconform, kubeval) download the Kubernetes JSON
// schemas at run time, and CI here reaches only package registries. Instead, everything this
// tool needs is compiled in from Go modules:
//
//   - rendering: sigs.k8s.io/kustomize/api/krusty, the same library `kubectl apply -k` and the
//     `kustomize` CLI use (builtin plugins only, load restrictions on, as kubectl does);
//   - schema: every object is strictly decoded into its typed struct from k8s.io/api, so unknown
//     or misspelt fields, duplicate fields, wrong types and unparsable quantities are errors;
//     an apiVersion/kind that is not compiled in is an error too (no silent pass for CRDs);
//   - semantics: checks from k8s.io/apimachinery's validation helpers (names, labels, ports,
//     env var names, label selectors) plus cross-object checks the API server never makes but
//     that break a deployment all the same (see checks.go).
//
// Usage:
//
//	k8s-validate [-root DIR] [-json] [-objects] [KUSTOMIZATION_DIR ...]
//
// Without directories it validates every directory under <root>/k8s that holds a
// kustomization.yaml (or kustomization.yml / Kustomization), except kustomize Components
// (validated through the kustomizations that include them). The exit code is 0 when every
// kustomization renders and validates, 1 when any does not, 2 on a usage error.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Report is the -json output.
type Report struct {
	OK             bool                  `json:"ok"`
	Kustomizations []KustomizationReport `json:"kustomizations"`
}

// KustomizationReport is the result for one kustomization directory.
type KustomizationReport struct {
	// Dir is relative to -root when it lies below it.
	Dir    string   `json:"dir"`
	OK     bool     `json:"ok"`
	Errors []string `json:"errors"`
	// Notes are facts worth knowing that are not errors, e.g. Secrets the manifests expect to be
	// created out of band.
	Notes []string `json:"notes"`
	// Summary lists kind/namespace/name of every rendered object.
	Summary []string `json:"summary"`
	// Objects holds the rendered objects (only with -objects).
	Objects []map[string]any `json:"objects,omitempty"`
}

var kustomizationFileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

var componentKind = regexp.MustCompile(`(?m)^kind:\s*Component\s*$`)

func main() {
	root := flag.String("root", ".", "repository root; default directories are found under <root>/k8s")
	asJSON := flag.Bool("json", false, "print a JSON report instead of text")
	withObjects := flag.Bool("objects", false, "with -json: include the rendered objects")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"usage: k8s-validate [-root DIR] [-json] [-objects] [KUSTOMIZATION_DIR ...]\n\n"+
				"Renders each kustomization (kustomize/api krusty) and validates every object offline:\n"+
				"strict decoding into the typed k8s.io/api structs plus semantic and cross-object checks.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	absRoot, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dirs := flag.Args()
	if len(dirs) == 0 {
		dirs, err = findKustomizations(filepath.Join(absRoot, "k8s"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if len(dirs) == 0 {
			fmt.Fprintf(os.Stderr, "no kustomization found under %s\n", filepath.Join(absRoot, "k8s"))
			os.Exit(2)
		}
	}

	report := Report{OK: true}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		kr := validateKustomization(abs, *withObjects)
		kr.Dir = relTo(absRoot, abs)
		if !kr.OK {
			report.OK = false
		}
		report.Kustomizations = append(report.Kustomizations, kr)
	}

	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	} else {
		printText(report)
	}
	if !report.OK {
		os.Exit(1)
	}
}

func printText(r Report) {
	failed := 0
	for _, k := range r.Kustomizations {
		if k.OK {
			fmt.Printf("ok    %s (%d objects)\n", k.Dir, len(k.Summary))
		} else {
			failed++
			fmt.Printf("FAIL  %s (%d objects)\n", k.Dir, len(k.Summary))
		}
		for _, e := range k.Errors {
			fmt.Printf("      error: %s\n", e)
		}
		for _, n := range k.Notes {
			fmt.Printf("      note:  %s\n", n)
		}
	}
	fmt.Printf("%d kustomizations, %d passed, %d failed\n", len(r.Kustomizations), len(r.Kustomizations)-failed, failed)
}

// findKustomizations returns every directory below dir holding a kustomization file, sorted.
// The validator's own folder and the Signadot specs (not kustomize input) are skipped.
func findKustomizations(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "validate" || d.Name() == "signadot" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		for _, n := range kustomizationFileNames {
			data, err := os.ReadFile(filepath.Join(p, n))
			if err != nil {
				continue
			}
			// A kustomize Component only renders inside a kustomization that includes it.
			if !componentKind.Match(data) {
				out = append(out, p)
			}
			break
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func relTo(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	return filepath.ToSlash(rel)
}
