package main

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// scheme holds the typed structs every rendered object is decoded into. Only stable API groups
// that a manifest of this kind may reasonably use are compiled in; anything else (a removed beta
// API, a CRD) fails with "no schema", never passes unchecked.
var scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme,
		appsv1.AddToScheme,
		batchv1.AddToScheme,
		policyv1.AddToScheme,
		networkingv1.AddToScheme,
		rbacv1.AddToScheme,
		autoscalingv2.AddToScheme,
		schedulingv1.AddToScheme,
		storagev1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
}

// object is one rendered Kubernetes object.
type object struct {
	gvk       schema.GroupVersionKind
	namespace string
	name      string
	raw       map[string]any
	// typed is the strictly decoded object; nil when decoding failed.
	typed runtime.Object
}

func (o *object) String() string {
	if o.namespace != "" {
		return fmt.Sprintf("%s %s/%s", o.gvk.Kind, o.namespace, o.name)
	}
	return fmt.Sprintf("%s %s", o.gvk.Kind, o.name)
}

// render runs kustomize on dir the way `kubectl apply -k` does (builtin plugins only, files
// restricted to the kustomization root) and returns each resource as JSON.
func render(dir string) ([][]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		j, err := sigsyaml.YAMLToJSONStrict(y)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		out = append(out, j)
	}
	return out, nil
}

// decode strictly decodes one rendered object into its typed struct.
func decode(data []byte) (*object, []string) {
	var errs []string
	o := &object{}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &o.raw); err != nil {
		return nil, []string{fmt.Sprintf("not a JSON object: %v", err)}
	}
	var tm struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &tm); err != nil {
		return nil, []string{fmt.Sprintf("cannot read apiVersion/kind/metadata: %v", err)}
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s %s: bad apiVersion %q: %v", tm.Kind, tm.Metadata.Name, tm.APIVersion, err)}
	}
	o.gvk = gv.WithKind(tm.Kind)
	o.name = tm.Metadata.Name
	o.namespace = tm.Metadata.Namespace

	typed, err := scheme.New(o.gvk)
	if err != nil {
		if runtime.IsNotRegisteredError(err) {
			return o, []string{fmt.Sprintf("%s: no schema compiled in for apiVersion %q kind %q (removed or beta API, or a CRD)",
				o, tm.APIVersion, tm.Kind)}
		}
		return o, []string{fmt.Sprintf("%s: %v", o, err)}
	}
	strict, err := sigsjson.UnmarshalStrict(data, typed)
	if err != nil {
		return o, []string{fmt.Sprintf("%s: does not decode as %s: %v", o, o.gvk, err)}
	}
	for _, e := range strict {
		errs = append(errs, fmt.Sprintf("%s: %v", o, e))
	}
	o.typed = typed
	return o, errs
}

func validateKustomization(dir string, withObjects bool) KustomizationReport {
	kr := KustomizationReport{Errors: []string{}, Notes: []string{}, Summary: []string{}}
	docs, err := render(dir)
	if err != nil {
		kr.Errors = append(kr.Errors, "kustomize build: "+err.Error())
		return kr
	}
	var objs []*object
	for _, d := range docs {
		o, errs := decode(d)
		kr.Errors = append(kr.Errors, errs...)
		if o == nil {
			continue
		}
		objs = append(objs, o)
		kr.Summary = append(kr.Summary, o.String())
		if withObjects {
			kr.Objects = append(kr.Objects, o.raw)
		}
	}
	if len(docs) == 0 {
		kr.Errors = append(kr.Errors, "kustomize build rendered no objects")
	}
	c := newChecker(objs)
	c.run()
	kr.Errors = append(kr.Errors, c.errors...)
	kr.Notes = append(kr.Notes, dedupe(c.notes)...)
	kr.OK = len(kr.Errors) == 0
	return kr
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
