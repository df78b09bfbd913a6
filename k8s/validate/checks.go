package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checker runs the semantic checks over all objects of one rendered kustomization.
//
// Per object: metadata (name format per kind, labels, annotations), pod templates (container
// names, images, ports, env, `$(VAR)` references, probes, resources, volumes, restart policy),
// workload selectors, Services, PodDisruptionBudgets, ConfigMap keys.
// Across objects: references to ConfigMaps, Secrets, PVCs and ServiceAccounts; Services and PDBs
// that select no pod template; named and numeric Service target ports; StatefulSet governing
// Services; Prometheus scrape ports; duplicate object identities; NetworkPolicies (netpol.go).
type checker struct {
	objs   []*object
	errors []string
	notes  []string
	// templates are the pod templates of all workloads, with their owner.
	templates []podTemplate
}

type podTemplate struct {
	owner     *object
	namespace string
	tmpl      *corev1.PodTemplateSpec
	// claimTemplates are a StatefulSet's volumeClaimTemplates names.
	claimTemplates map[string]bool
}

func newChecker(objs []*object) *checker {
	c := &checker{objs: objs}
	for _, o := range objs {
		if t, claims := podTemplateOf(o); t != nil {
			c.templates = append(c.templates, podTemplate{owner: o, namespace: o.namespace, tmpl: t, claimTemplates: claims})
		}
	}
	return c
}

func (c *checker) errf(o *object, format string, args ...any) {
	c.errors = append(c.errors, fmt.Sprintf("%s: %s", o, fmt.Sprintf(format, args...)))
}

func (c *checker) fieldErrs(o *object, errs field.ErrorList) {
	for _, e := range errs {
		c.errf(o, "%s", e.Error())
	}
}

func podTemplateOf(o *object) (*corev1.PodTemplateSpec, map[string]bool) {
	switch t := o.typed.(type) {
	case *appsv1.Deployment:
		return &t.Spec.Template, nil
	case *appsv1.StatefulSet:
		claims := map[string]bool{}
		for _, pvc := range t.Spec.VolumeClaimTemplates {
			claims[pvc.Name] = true
		}
		return &t.Spec.Template, claims
	case *appsv1.DaemonSet:
		return &t.Spec.Template, nil
	case *appsv1.ReplicaSet:
		return &t.Spec.Template, nil
	case *batchv1.Job:
		return &t.Spec.Template, nil
	case *batchv1.CronJob:
		return &t.Spec.JobTemplate.Spec.Template, nil
	case *corev1.Pod:
		return &corev1.PodTemplateSpec{ObjectMeta: t.ObjectMeta, Spec: t.Spec}, nil
	}
	return nil, nil
}

func (c *checker) run() {
	seen := map[string]bool{}
	for _, o := range c.objs {
		id := o.gvk.GroupKind().String() + "/" + o.namespace + "/" + o.name
		if seen[id] {
			c.errf(o, "defined more than once")
		}
		seen[id] = true
		if o.typed == nil {
			continue
		}
		c.checkMeta(o)
		switch t := o.typed.(type) {
		case *appsv1.Deployment:
			c.checkSelector(o, t.Spec.Selector, t.Spec.Template.Labels, true)
			c.checkRestartPolicy(o, t.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
		case *appsv1.StatefulSet:
			c.checkSelector(o, t.Spec.Selector, t.Spec.Template.Labels, true)
			c.checkRestartPolicy(o, t.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
			c.checkStatefulSetService(o, t)
			if errs := validation.IsDNS1123Label(o.name); len(errs) > 0 {
				// Pod names (and host names) of a StatefulSet are <name>-<ordinal>.
				c.errf(o, "name is not a DNS-1123 label: %s", strings.Join(errs, "; "))
			}
		case *appsv1.DaemonSet:
			c.checkSelector(o, t.Spec.Selector, t.Spec.Template.Labels, true)
		case *appsv1.ReplicaSet:
			c.checkSelector(o, t.Spec.Selector, t.Spec.Template.Labels, true)
		case *batchv1.Job:
			if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
				c.checkSelector(o, t.Spec.Selector, t.Spec.Template.Labels, true)
			}
			c.checkRestartPolicy(o, t.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure)
		case *batchv1.CronJob:
			c.checkRestartPolicy(o, t.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure)
		case *corev1.Service:
			c.checkService(o, t)
		case *policyv1.PodDisruptionBudget:
			c.checkPDB(o, t)
		case *networkingv1.NetworkPolicy:
			c.checkNetworkPolicy(o, t)
		case *corev1.ConfigMap:
			for k := range t.Data {
				if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
					c.errf(o, "data key %q: %s", k, strings.Join(errs, "; "))
				}
			}
		case *corev1.Secret:
			for k := range t.Data {
				if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
					c.errf(o, "data key %q: %s", k, strings.Join(errs, "; "))
				}
			}
			for k := range t.StringData {
				if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
					c.errf(o, "stringData key %q: %s", k, strings.Join(errs, "; "))
				}
			}
		}
	}
	for _, pt := range c.templates {
		c.checkPodTemplate(pt)
	}
	c.checkNetworkPolicies()
}

// checkMeta validates metadata with apimachinery's ObjectMeta validation; the name rule depends
// on the kind (Services and Namespaces need DNS labels, most others DNS subdomains).
func (c *checker) checkMeta(o *object) {
	acc, err := meta.Accessor(o.typed)
	if err != nil {
		c.errf(o, "no metadata: %v", err)
		return
	}
	nameFn := apivalidation.NameIsDNSSubdomain
	switch o.gvk.Kind {
	case "Service":
		nameFn = apivalidation.NameIsDNS1035Label
	case "Namespace":
		nameFn = apivalidation.NameIsDNSLabel
	}
	c.fieldErrs(o, apivalidation.ValidateObjectMetaAccessor(acc, o.namespace != "", nameFn, field.NewPath("metadata")))
}

func (c *checker) checkRestartPolicy(o *object, got corev1.RestartPolicy, allowed ...corev1.RestartPolicy) {
	if got == "" {
		if allowed[0] == corev1.RestartPolicyAlways {
			return // defaulted to Always
		}
		c.errf(o, "spec.template.spec.restartPolicy must be set to one of %v", allowed)
		return
	}
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	c.errf(o, "spec.template.spec.restartPolicy %q not allowed here (want one of %v)", got, allowed)
}

// checkSelector: the selector is required, valid, and selects the object's own pod template.
func (c *checker) checkSelector(o *object, sel *metav1.LabelSelector, tmplLabels map[string]string, required bool) {
	if sel == nil {
		if required {
			c.errf(o, "spec.selector is required")
		}
		return
	}
	c.fieldErrs(o, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.errf(o, "spec.selector: %v", err)
		return
	}
	if s.Empty() {
		c.errf(o, "spec.selector is empty (selects everything)")
		return
	}
	if !s.Matches(labels.Set(tmplLabels)) {
		c.errf(o, "spec.selector %s does not match spec.template.metadata.labels %v", s, tmplLabels)
	}
}

func (c *checker) checkStatefulSetService(o *object, ss *appsv1.StatefulSet) {
	if ss.Spec.ServiceName == "" {
		return // optional since 1.32; nothing to check
	}
	for _, other := range c.objs {
		svc, ok := other.typed.(*corev1.Service)
		if !ok || other.namespace != o.namespace || other.name != ss.Spec.ServiceName {
			continue
		}
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			c.errf(o, "governing Service %q is not headless (clusterIP: None)", ss.Spec.ServiceName)
		}
		return
	}
	c.errf(o, "spec.serviceName %q: no such Service in the rendered output", ss.Spec.ServiceName)
}

// templatesSelectedBy returns the pod templates in ns whose labels match sel.
func (c *checker) templatesSelectedBy(ns string, sel labels.Selector) []podTemplate {
	var out []podTemplate
	for _, pt := range c.templates {
		if pt.namespace == ns && sel.Matches(labels.Set(pt.tmpl.Labels)) {
			out = append(out, pt)
		}
	}
	return out
}

func (c *checker) checkService(o *object, svc *corev1.Service) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		c.errf(o, "spec.ports is empty")
	}
	names := map[string]bool{}
	for i, p := range svc.Spec.Ports {
		if len(svc.Spec.Ports) > 1 && p.Name == "" {
			c.errf(o, "spec.ports[%d]: name is required when a Service has several ports", i)
		}
		if p.Name != "" {
			if errs := validation.IsDNS1123Label(p.Name); len(errs) > 0 {
				c.errf(o, "spec.ports[%d].name %q: %s", i, p.Name, strings.Join(errs, "; "))
			}
			if names[p.Name] {
				c.errf(o, "spec.ports[%d].name %q is duplicated", i, p.Name)
			}
			names[p.Name] = true
		}
		if errs := validation.IsValidPortNum(int(p.Port)); len(errs) > 0 {
			c.errf(o, "spec.ports[%d].port: %s", i, strings.Join(errs, "; "))
		}
	}
	if len(svc.Spec.Selector) == 0 {
		c.notes = append(c.notes, fmt.Sprintf("%s has no selector (endpoints managed elsewhere)", o))
		return
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	selected := c.templatesSelectedBy(o.namespace, sel)
	if len(selected) == 0 {
		c.errf(o, "selector %s matches no pod template in the rendered output", sel)
		return
	}
	for i, p := range svc.Spec.Ports {
		target := p.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(p.Port)
		}
		for _, pt := range selected {
			if !templateHasPort(pt.tmpl, target) {
				c.errf(o, "spec.ports[%d] targetPort %s is not a container port of %s", i, target.String(), pt.owner)
			}
		}
	}
}

func templateHasPort(t *corev1.PodTemplateSpec, p intstr.IntOrString) bool {
	for _, ctr := range t.Spec.Containers {
		for _, cp := range ctr.Ports {
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return true
			}
		}
	}
	return false
}

func (c *checker) checkPDB(o *object, pdb *policyv1.PodDisruptionBudget) {
	if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
		c.errf(o, "exactly one of spec.minAvailable and spec.maxUnavailable must be set")
	}
	if pdb.Spec.Selector == nil {
		c.errf(o, "spec.selector is required")
		return
	}
	c.fieldErrs(o, metav1validation.ValidateLabelSelector(pdb.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
	s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		c.errf(o, "spec.selector: %v", err)
		return
	}
	if len(c.templatesSelectedBy(o.namespace, s)) == 0 {
		c.errf(o, "selector %s matches no pod template in the rendered output", s)
	}
}

// findObject returns the rendered object of the given kind, namespace and name.
func (c *checker) findObject(kind, ns, name string) *object {
	for _, o := range c.objs {
		if o.gvk.Group == "" && o.gvk.Kind == kind && o.namespace == ns && o.name == name {
			return o
		}
	}
	return nil
}

// varRef matches Kubernetes' dependent-variable syntax $(NAME); "$$(" is an escape.
var varRef = regexp.MustCompile(`\$\$|\$\(([^)]*)\)`)

// upperVarName is what counts as a Kubernetes variable reference inside command/args, where a
// lower-case $(cmd) is more likely a shell command substitution left alone by Kubernetes.
var upperVarName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

func varRefs(s string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if m[0] == "$$" {
			continue
		}
		out = append(out, m[1])
	}
	return out
}

var supportedFieldPaths = regexp.MustCompile(`^(metadata\.(name|namespace|uid|labels\['[^']+'\]|annotations\['[^']+'\])|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs))$`)

func (c *checker) checkPodTemplate(pt podTemplate) {
	o := pt.owner
	spec := &pt.tmpl.Spec
	c.fieldErrs(o, metav1validation.ValidateLabels(pt.tmpl.Labels, field.NewPath("spec", "template", "metadata", "labels")))
	c.fieldErrs(o, apivalidation.ValidateAnnotations(pt.tmpl.Annotations, field.NewPath("spec", "template", "metadata", "annotations")))
	if len(spec.Containers) == 0 {
		c.errf(o, "pod template has no containers")
	}

	volumes := map[string]bool{}
	for name := range pt.claimTemplates {
		volumes[name] = true
	}
	for i, v := range spec.Volumes {
		if errs := validation.IsDNS1123Label(v.Name); len(errs) > 0 {
			c.errf(o, "volumes[%d].name %q: %s", i, v.Name, strings.Join(errs, "; "))
		}
		if volumes[v.Name] {
			c.errf(o, "volume %q is defined more than once", v.Name)
		}
		volumes[v.Name] = true
		c.checkVolumeSource(o, v)
	}

	if sa := spec.ServiceAccountName; sa != "" && sa != "default" {
		if c.findObject("ServiceAccount", o.namespace, sa) == nil {
			c.errf(o, "serviceAccountName %q: no such ServiceAccount in the rendered output", sa)
		}
	}

	allPorts := map[int32]bool{}
	names := map[string]bool{}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for ci := range all {
		ctr := &all[ci]
		where := "container " + strconv.Quote(ctr.Name)
		if errs := validation.IsDNS1123Label(ctr.Name); len(errs) > 0 {
			c.errf(o, "%s: name: %s", where, strings.Join(errs, "; "))
		}
		if names[ctr.Name] {
			c.errf(o, "%s: name is used by more than one container", where)
		}
		names[ctr.Name] = true
		if strings.TrimSpace(ctr.Image) == "" || strings.ContainsAny(ctr.Image, " \t\n") {
			c.errf(o, "%s: image %q is empty or has whitespace", where, ctr.Image)
		}
		portNames := map[string]bool{}
		for pi, p := range ctr.Ports {
			if errs := validation.IsValidPortNum(int(p.ContainerPort)); len(errs) > 0 {
				c.errf(o, "%s: ports[%d].containerPort: %s", where, pi, strings.Join(errs, "; "))
			}
			if p.Name != "" {
				if errs := validation.IsValidPortName(p.Name); len(errs) > 0 {
					c.errf(o, "%s: ports[%d].name %q: %s", where, pi, p.Name, strings.Join(errs, "; "))
				}
				if portNames[p.Name] {
					c.errf(o, "%s: port name %q is duplicated", where, p.Name)
				}
				portNames[p.Name] = true
			}
			allPorts[p.ContainerPort] = true
		}

		// Environment: names valid and unique, one value source each, $(VAR) only to earlier vars.
		defined := map[string]bool{}
		for ei, e := range ctr.Env {
			if errs := validation.IsEnvVarName(e.Name); len(errs) > 0 {
				c.errf(o, "%s: env[%d] name %q: %s", where, ei, e.Name, strings.Join(errs, "; "))
			}
			if defined[e.Name] {
				c.errf(o, "%s: env %s is set more than once", where, e.Name)
			}
			for _, ref := range varRefs(e.Value) {
				if !defined[ref] {
					c.errf(o, "%s: env %s references $(%s), which is not defined earlier in env (Kubernetes would leave it unexpanded)", where, e.Name, ref)
				}
			}
			if e.ValueFrom != nil {
				if e.Value != "" {
					c.errf(o, "%s: env %s has both value and valueFrom", where, e.Name)
				}
				c.checkEnvSource(o, where, e)
			}
			defined[e.Name] = true
		}
		for _, ef := range ctr.EnvFrom {
			c.checkEnvFrom(o, where, ef)
		}
		for _, s := range append(append([]string{}, ctr.Command...), ctr.Args...) {
			for _, ref := range varRefs(s) {
				if upperVarName.MatchString(ref) && !defined[ref] && len(ctr.EnvFrom) == 0 {
					c.errf(o, "%s: command/args reference $(%s), which is not in env (Kubernetes would leave it unexpanded)", where, ref)
				}
			}
		}

		for mi, m := range ctr.VolumeMounts {
			if !volumes[m.Name] {
				c.errf(o, "%s: volumeMounts[%d] refers to unknown volume %q", where, mi, m.Name)
			}
			if !strings.HasPrefix(m.MountPath, "/") {
				c.errf(o, "%s: volumeMounts[%d].mountPath %q is not absolute", where, mi, m.MountPath)
			}
		}

		c.checkProbe(o, where, "livenessProbe", ctr.LivenessProbe, ctr)
		c.checkProbe(o, where, "readinessProbe", ctr.ReadinessProbe, ctr)
		c.checkProbe(o, where, "startupProbe", ctr.StartupProbe, ctr)

		for res, limit := range ctr.Resources.Limits {
			if req, ok := ctr.Resources.Requests[res]; ok && req.Cmp(limit) > 0 {
				c.errf(o, "%s: resources.requests.%s (%s) exceeds the limit (%s)", where, res, req.String(), limit.String())
			}
		}
	}

	// prometheus.io/port must be one of the pod's container ports.
	if pt.tmpl.Annotations["prometheus.io/scrape"] == "true" {
		ps, ok := pt.tmpl.Annotations["prometheus.io/port"]
		port, err := strconv.Atoi(ps)
		if !ok || err != nil {
			c.errf(o, "prometheus.io/scrape is true but prometheus.io/port %q is not a number", ps)
		} else if !allPorts[int32(port)] {
			c.errf(o, "prometheus.io/port %d is not a container port", port)
		}
		if p := pt.tmpl.Annotations["prometheus.io/path"]; p != "" && !strings.HasPrefix(p, "/") {
			c.errf(o, "prometheus.io/path %q must start with /", p)
		}
	}
}

func (c *checker) checkVolumeSource(o *object, v corev1.Volume) {
	switch {
	case v.ConfigMap != nil:
		c.requireConfigMap(o, "volume "+v.Name, v.ConfigMap.Name, "", v.ConfigMap.Optional)
	case v.Secret != nil:
		if len(v.Secret.Items) == 0 {
			c.requireSecret(o, "volume "+v.Name, v.Secret.SecretName, "", v.Secret.Optional)
		}
		for _, item := range v.Secret.Items {
			c.requireSecret(o, "volume "+v.Name, v.Secret.SecretName, item.Key, v.Secret.Optional)
		}
	case v.PersistentVolumeClaim != nil:
		if c.findObject("PersistentVolumeClaim", o.namespace, v.PersistentVolumeClaim.ClaimName) == nil {
			c.notes = append(c.notes, fmt.Sprintf("%s expects PersistentVolumeClaim %q to exist", o, v.PersistentVolumeClaim.ClaimName))
		}
	}
}

func (c *checker) checkEnvSource(o *object, where string, e corev1.EnvVar) {
	vf := e.ValueFrom
	n := 0
	if vf.FieldRef != nil {
		n++
		if !supportedFieldPaths.MatchString(vf.FieldRef.FieldPath) {
			c.errf(o, "%s: env %s: fieldRef.fieldPath %q is not supported by the downward API in env", where, e.Name, vf.FieldRef.FieldPath)
		}
	}
	if vf.ResourceFieldRef != nil {
		n++
	}
	if vf.ConfigMapKeyRef != nil {
		n++
		c.requireConfigMap(o, where+" env "+e.Name, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Optional)
	}
	if vf.SecretKeyRef != nil {
		n++
		c.requireSecret(o, where+" env "+e.Name, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Optional)
	}
	if vf.FileKeyRef != nil {
		n++
	}
	if n != 1 {
		c.errf(o, "%s: env %s: valueFrom must have exactly one source, has %d", where, e.Name, n)
	}
}

func (c *checker) checkEnvFrom(o *object, where string, ef corev1.EnvFromSource) {
	if ef.ConfigMapRef != nil {
		c.requireConfigMap(o, where+" envFrom", ef.ConfigMapRef.Name, "", ef.ConfigMapRef.Optional)
	}
	if ef.SecretRef != nil {
		c.requireSecret(o, where+" envFrom", ef.SecretRef.Name, "", ef.SecretRef.Optional)
	}
}

// requireConfigMap: a non-optional ConfigMap must be in the rendered output (ConfigMaps are part
// of the manifests), with the key when one is named.
func (c *checker) requireConfigMap(o *object, where, name, key string, optional *bool) {
	cmObj := c.findObject("ConfigMap", o.namespace, name)
	if cmObj == nil {
		if optional == nil || !*optional {
			c.errf(o, "%s: ConfigMap %q is not in the rendered output", where, name)
		}
		return
	}
	cm, ok := cmObj.typed.(*corev1.ConfigMap)
	if !ok || key == "" {
		return
	}
	if _, ok := cm.Data[key]; ok {
		return
	}
	if _, ok := cm.BinaryData[key]; ok {
		return
	}
	if optional == nil || !*optional {
		c.errf(o, "%s: ConfigMap %q has no key %q", where, name, key)
	}
}

// requireSecret: Secrets are often created out of band (credentials never live in git), so a
// missing Secret is a note; a Secret that is rendered must have the key.
func (c *checker) requireSecret(o *object, where, name, key string, optional *bool) {
	sObj := c.findObject("Secret", o.namespace, name)
	if sObj == nil {
		if optional == nil || !*optional {
			suffix := ""
			if key != "" {
				suffix = " with key " + strconv.Quote(key)
			}
			c.notes = append(c.notes, fmt.Sprintf("%s expects Secret %q%s to be created out of band", o, name, suffix))
		}
		return
	}
	s, ok := sObj.typed.(*corev1.Secret)
	if !ok || key == "" {
		return
	}
	if _, ok := s.Data[key]; ok {
		return
	}
	if _, ok := s.StringData[key]; ok {
		return
	}
	if optional == nil || !*optional {
		c.errf(o, "%s: Secret %q has no key %q", where, name, key)
	}
}

func (c *checker) checkProbe(o *object, where, kind string, p *corev1.Probe, ctr *corev1.Container) {
	if p == nil {
		return
	}
	n := 0
	check := func(port intstr.IntOrString) {
		switch port.Type {
		case intstr.String:
			for _, cp := range ctr.Ports {
				if cp.Name == port.StrVal {
					return
				}
			}
			c.errf(o, "%s: %s port %q is not a named port of this container", where, kind, port.StrVal)
		case intstr.Int:
			if errs := validation.IsValidPortNum(int(port.IntVal)); len(errs) > 0 {
				c.errf(o, "%s: %s port: %s", where, kind, strings.Join(errs, "; "))
			}
		}
	}
	if p.HTTPGet != nil {
		n++
		check(p.HTTPGet.Port)
		if p.HTTPGet.Path != "" && !strings.HasPrefix(p.HTTPGet.Path, "/") {
			c.errf(o, "%s: %s path %q must start with /", where, kind, p.HTTPGet.Path)
		}
	}
	if p.TCPSocket != nil {
		n++
		check(p.TCPSocket.Port)
	}
	if p.GRPC != nil {
		n++
		check(intstr.FromInt32(p.GRPC.Port))
	}
	if p.Exec != nil {
		n++
		if len(p.Exec.Command) == 0 {
			c.errf(o, "%s: %s exec.command is empty", where, kind)
		}
	}
	if n != 1 {
		c.errf(o, "%s: %s must have exactly one handler, has %d", where, kind, n)
	}
	if kind != "readinessProbe" && p.SuccessThreshold > 1 {
		c.errf(o, "%s: %s successThreshold must be 1", where, kind)
	}
}
