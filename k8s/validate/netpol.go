package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NetworkPolicy checks. The API server accepts a policy that selects nothing, a pod that no policy
// selects, an allowed port nothing listens on, and egress that the receiving pod's policies refuse; each
// of these silently breaks (or silently opens) traffic. Over one rendered kustomization:
//
//   - every pod template is selected by a NetworkPolicy of its own (a podSelector that is not empty): a
//     pod covered only by a namespace-wide default deny can talk to nothing, one covered by nothing is
//     unrestricted;
//   - a namespace that the kustomization deploys pods into has a default deny (podSelector {}, both
//     policy types, no rules); a kustomization without a namespace is a building block and is not held
//     to this;
//   - each port a policy admits into its pods is a container port of one of them, and each port it lets
//     its pods reach on pods of the same render is a container port there;
//   - traffic allowed on one side is allowed on the other: egress to a rendered pod is admitted by that
//     pod's ingress policies, and ingress from a rendered pod is allowed by that pod's egress policies;
//   - the policies themselves are well formed (selectors, ports and protocols, CIDRs).

// netPolicy is a rendered NetworkPolicy with its selector parsed and its policy types resolved.
type netPolicy struct {
	obj  *object
	spec *networkingv1.NetworkPolicySpec
	// selector is nil when the podSelector is invalid (reported elsewhere).
	selector labels.Selector
	// ingress and egress: whether the policy isolates the pods it selects in that direction.
	ingress, egress bool
}

func newNetPolicy(o *object, np *networkingv1.NetworkPolicy) *netPolicy {
	p := &netPolicy{obj: o, spec: &np.Spec}
	if s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err == nil {
		p.selector = s
	}
	if len(np.Spec.PolicyTypes) == 0 {
		// The API's defaulting: Ingress always, Egress when egress rules are present.
		p.ingress = true
		p.egress = len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.ingress = true
		case networkingv1.PolicyTypeEgress:
			p.egress = true
		}
	}
	return p
}

// namespaceWide: the policy's podSelector is empty, so it selects every pod of its namespace.
func (p *netPolicy) namespaceWide() bool { return p.selector != nil && p.selector.Empty() }

func (p *netPolicy) isDefaultDeny() bool {
	return p.namespaceWide() && p.ingress && p.egress && len(p.spec.Ingress) == 0 && len(p.spec.Egress) == 0
}

func (p *netPolicy) selects(pt podTemplate) bool {
	return p.selector != nil && p.obj.namespace == pt.namespace && p.selector.Matches(labels.Set(pt.tmpl.Labels))
}

// concretePort is a port as one pod declares it.
type concretePort struct {
	number   int32
	name     string
	protocol corev1.Protocol
}

func (p concretePort) String() string {
	return fmt.Sprintf("%s %d", p.protocol, p.number)
}

func protocolOf(p *corev1.Protocol) corev1.Protocol {
	if p == nil || *p == "" {
		return corev1.ProtocolTCP
	}
	return *p
}

// listening returns the ports of the template's containers that a policy port (number, range or name)
// refers to; a policy port without a port number means every port of its protocol.
func listening(t *corev1.PodTemplateSpec, pp networkingv1.NetworkPolicyPort) []concretePort {
	proto := protocolOf(pp.Protocol)
	var out []concretePort
	for _, ctr := range t.Spec.Containers {
		for _, cp := range ctr.Ports {
			cproto := cp.Protocol
			if cproto == "" {
				cproto = corev1.ProtocolTCP
			}
			if cproto != proto {
				continue
			}
			match := pp.Port == nil
			if pp.Port != nil {
				switch pp.Port.Type {
				case intstr.String:
					match = cp.Name == pp.Port.StrVal
				case intstr.Int:
					end := pp.Port.IntVal
					if pp.EndPort != nil {
						end = *pp.EndPort
					}
					match = cp.ContainerPort >= pp.Port.IntVal && cp.ContainerPort <= end
				}
			}
			if match {
				out = append(out, concretePort{number: cp.ContainerPort, name: cp.Name, protocol: proto})
			}
		}
	}
	return out
}

// portAllowed: a rule's port list admits the destination port (an empty list admits every port).
func portAllowed(ports []networkingv1.NetworkPolicyPort, p concretePort) bool {
	if len(ports) == 0 {
		return true
	}
	for _, pp := range ports {
		if protocolOf(pp.Protocol) != p.protocol {
			continue
		}
		if pp.Port == nil {
			return true
		}
		switch pp.Port.Type {
		case intstr.String:
			if p.name != "" && p.name == pp.Port.StrVal {
				return true
			}
		case intstr.Int:
			end := pp.Port.IntVal
			if pp.EndPort != nil {
				end = *pp.EndPort
			}
			if p.number >= pp.Port.IntVal && p.number <= end {
				return true
			}
		}
	}
	return false
}

func describePort(pp networkingv1.NetworkPolicyPort) string {
	proto := protocolOf(pp.Protocol)
	switch {
	case pp.Port == nil:
		return fmt.Sprintf("%s (all ports)", proto)
	case pp.EndPort != nil:
		return fmt.Sprintf("%s %s-%d", proto, pp.Port.String(), *pp.EndPort)
	default:
		return fmt.Sprintf("%s %s", proto, pp.Port.String())
	}
}

// namespaceLabels: the labels of a namespace as the render knows them (a rendered Namespace object's),
// plus kubernetes.io/metadata.name, which the API server sets on every namespace.
func (c *checker) namespaceLabels(ns string) labels.Set {
	out := labels.Set{"kubernetes.io/metadata.name": ns}
	if o := c.findObject("Namespace", "", ns); o != nil {
		if n, ok := o.typed.(*corev1.Namespace); ok {
			for k, v := range n.Labels {
				out[k] = v
			}
		}
	}
	return out
}

// peerSelectsTemplate: the peer (of a policy in policyNS) matches the pods of the template. An ipBlock
// never does: pod addresses are not known before they run.
func (c *checker) peerSelectsTemplate(peer networkingv1.NetworkPolicyPeer, policyNS string, pt podTemplate) bool {
	if peer.IPBlock != nil {
		return false
	}
	if peer.NamespaceSelector == nil {
		if pt.namespace != policyNS {
			return false
		}
	} else {
		ns, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
		if err != nil || !ns.Matches(c.namespaceLabels(pt.namespace)) {
			return false
		}
	}
	if peer.PodSelector == nil {
		return true
	}
	pods, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
	return err == nil && pods.Matches(labels.Set(pt.tmpl.Labels))
}

// samePodsPeer: the peer names pods of the policy's own namespace by label (no namespace selector, no
// ipBlock), so the render shows which pods those are.
func samePodsPeer(peer networkingv1.NetworkPolicyPeer) bool {
	return peer.PodSelector != nil && peer.NamespaceSelector == nil && peer.IPBlock == nil
}

// admitsIngress: the policies of `to` let `from` in on the port (true when none isolates `to` for ingress).
func (c *checker) admitsIngress(pols []*netPolicy, to, from podTemplate, port concretePort) bool {
	isolated := false
	for _, p := range pols {
		if !p.ingress || !p.selects(to) {
			continue
		}
		isolated = true
		for _, rule := range p.spec.Ingress {
			if !portAllowed(rule.Ports, port) {
				continue
			}
			if len(rule.From) == 0 {
				return true
			}
			for _, peer := range rule.From {
				if c.peerSelectsTemplate(peer, p.obj.namespace, from) {
					return true
				}
			}
		}
	}
	return !isolated
}

// allowsEgress: the policies of `from` let it reach `to` on the port (true when none isolates `from`).
func (c *checker) allowsEgress(pols []*netPolicy, from, to podTemplate, port concretePort) bool {
	isolated := false
	for _, p := range pols {
		if !p.egress || !p.selects(from) {
			continue
		}
		isolated = true
		for _, rule := range p.spec.Egress {
			if !portAllowed(rule.Ports, port) {
				continue
			}
			if len(rule.To) == 0 {
				return true
			}
			for _, peer := range rule.To {
				if c.peerSelectsTemplate(peer, p.obj.namespace, to) {
					return true
				}
			}
		}
	}
	return !isolated
}

func nsName(ns string) string {
	if ns == "" {
		return "(no namespace)"
	}
	return strconv.Quote(ns)
}

// checkNetworkPolicy validates one policy on its own.
func (c *checker) checkNetworkPolicy(o *object, np *networkingv1.NetworkPolicy) {
	c.fieldErrs(o, metav1validation.ValidateLabelSelector(&np.Spec.PodSelector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "podSelector")))
	seen := map[networkingv1.PolicyType]bool{}
	for i, t := range np.Spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			c.errf(o, "spec.policyTypes[%d] %q: must be Ingress or Egress", i, t)
		}
		if seen[t] {
			c.errf(o, "spec.policyTypes[%d] %q is listed twice", i, t)
		}
		seen[t] = true
	}
	if len(np.Spec.PolicyTypes) > 0 && !seen[networkingv1.PolicyTypeEgress] && len(np.Spec.Egress) > 0 {
		c.errf(o, "spec.egress has rules but spec.policyTypes leaves out Egress, so they are ignored")
	}
	if len(np.Spec.PolicyTypes) > 0 && !seen[networkingv1.PolicyTypeIngress] && len(np.Spec.Ingress) > 0 {
		c.errf(o, "spec.ingress has rules but spec.policyTypes leaves out Ingress, so they are ignored")
	}
	for i, rule := range np.Spec.Ingress {
		where := fmt.Sprintf("spec.ingress[%d]", i)
		c.checkPolicyPorts(o, where, rule.Ports)
		for j, peer := range rule.From {
			c.checkPolicyPeer(o, fmt.Sprintf("%s.from[%d]", where, j), peer)
		}
	}
	for i, rule := range np.Spec.Egress {
		where := fmt.Sprintf("spec.egress[%d]", i)
		c.checkPolicyPorts(o, where, rule.Ports)
		for j, peer := range rule.To {
			c.checkPolicyPeer(o, fmt.Sprintf("%s.to[%d]", where, j), peer)
		}
	}
}

func (c *checker) checkPolicyPorts(o *object, where string, ports []networkingv1.NetworkPolicyPort) {
	for i, pp := range ports {
		at := fmt.Sprintf("%s.ports[%d]", where, i)
		switch protocolOf(pp.Protocol) {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			c.errf(o, "%s.protocol %q: must be TCP, UDP or SCTP", at, *pp.Protocol)
		}
		if pp.Port != nil {
			switch pp.Port.Type {
			case intstr.Int:
				if errs := validation.IsValidPortNum(int(pp.Port.IntVal)); len(errs) > 0 {
					c.errf(o, "%s.port: %s", at, strings.Join(errs, "; "))
				}
			case intstr.String:
				if errs := validation.IsValidPortName(pp.Port.StrVal); len(errs) > 0 {
					c.errf(o, "%s.port %q: %s", at, pp.Port.StrVal, strings.Join(errs, "; "))
				}
			}
		}
		if pp.EndPort != nil {
			if pp.Port == nil || pp.Port.Type != intstr.Int {
				c.errf(o, "%s.endPort needs a numeric port", at)
			} else if *pp.EndPort < pp.Port.IntVal {
				c.errf(o, "%s.endPort %d is below port %d", at, *pp.EndPort, pp.Port.IntVal)
			}
		}
	}
}

func (c *checker) checkPolicyPeer(o *object, where string, peer networkingv1.NetworkPolicyPeer) {
	if peer.IPBlock == nil && peer.PodSelector == nil && peer.NamespaceSelector == nil {
		c.errf(o, "%s: a peer needs podSelector, namespaceSelector or ipBlock", where)
		return
	}
	if peer.IPBlock != nil {
		if peer.PodSelector != nil || peer.NamespaceSelector != nil {
			c.errf(o, "%s: ipBlock cannot be combined with podSelector or namespaceSelector", where)
		}
		cidr, err := netip.ParsePrefix(peer.IPBlock.CIDR)
		if err != nil {
			c.errf(o, "%s.ipBlock.cidr %q: %v", where, peer.IPBlock.CIDR, err)
			return
		}
		for i, ex := range peer.IPBlock.Except {
			e, err := netip.ParsePrefix(ex)
			if err != nil {
				c.errf(o, "%s.ipBlock.except[%d] %q: %v", where, i, ex, err)
			} else if e.Bits() <= cidr.Bits() || !cidr.Contains(e.Addr()) {
				c.errf(o, "%s.ipBlock.except[%d] %s is not a strict subset of %s", where, i, ex, peer.IPBlock.CIDR)
			}
		}
	}
	opts := metav1validation.LabelSelectorValidationOptions{}
	if peer.PodSelector != nil {
		c.fieldErrs(o, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, field.NewPath(where, "podSelector")))
	}
	if peer.NamespaceSelector != nil {
		c.fieldErrs(o, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, field.NewPath(where, "namespaceSelector")))
	}
}

// checkNetworkPolicies makes the cross-object checks described at the top of this file.
func (c *checker) checkNetworkPolicies() {
	var pols []*netPolicy
	for _, o := range c.objs {
		if np, ok := o.typed.(*networkingv1.NetworkPolicy); ok {
			pols = append(pols, newNetPolicy(o, np))
		}
	}
	reported := map[string]bool{}
	once := func(o *object, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if !reported[o.String()+msg] {
			reported[o.String()+msg] = true
			c.errf(o, "%s", msg)
		}
	}

	// Default deny per namespace, and a policy of its own for every pod template.
	denied := map[string]bool{}
	for _, p := range pols {
		if p.isDefaultDeny() {
			denied[p.obj.namespace] = true
		}
	}
	for _, pt := range c.templates {
		if pt.namespace != "" && !denied[pt.namespace] {
			once(pt.owner, "namespace %s has no default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress], no rules), so pods no policy selects may send and receive anything",
				nsName(pt.namespace))
		}
		own, wide := 0, 0
		for _, p := range pols {
			if p.selects(pt) {
				if p.namespaceWide() {
					wide++
				} else {
					own++
				}
			}
		}
		switch {
		case own > 0:
		case wide > 0:
			c.errf(pt.owner, "no NetworkPolicy selects its pods (labels %s) but namespace-wide ones: under a default deny they can reach and be reached by nothing; add a policy with the traffic they need",
				labels.Set(pt.tmpl.Labels))
		default:
			c.errf(pt.owner, "no NetworkPolicy selects its pods (labels %s): their traffic is not restricted", labels.Set(pt.tmpl.Labels))
		}
	}

	for _, p := range pols {
		var selected []podTemplate
		for _, pt := range c.templates {
			if p.selects(pt) {
				selected = append(selected, pt)
			}
		}
		// Ports admitted into the selected pods must be ports they listen on.
		if len(selected) > 0 && p.ingress {
			for i, rule := range p.spec.Ingress {
				for _, pp := range rule.Ports {
					if pp.Port == nil {
						continue
					}
					found := false
					for _, pt := range selected {
						if len(listening(pt.tmpl, pp)) > 0 {
							found = true
						}
					}
					if !found {
						once(p.obj, "spec.ingress[%d] admits %s, which no container of the pods it selects declares (%s)",
							i, describePort(pp), ownersOf(selected))
					}
				}
			}
		}
		if !p.egress {
			continue
		}
		for i, rule := range p.spec.Egress {
			for _, peer := range rule.To {
				if !samePodsPeer(peer) {
					continue
				}
				var targets []podTemplate
				for _, pt := range c.templates {
					if c.peerSelectsTemplate(peer, p.obj.namespace, pt) {
						targets = append(targets, pt)
					}
				}
				if len(targets) == 0 {
					continue
				}
				for _, pp := range rule.Ports {
					if pp.Port == nil {
						continue
					}
					found := false
					for _, dst := range targets {
						ports := listening(dst.tmpl, pp)
						if len(ports) > 0 {
							found = true
						}
						// The receiving side must admit what this side sends.
						for _, port := range ports {
							for _, src := range selected {
								if !c.admitsIngress(pols, dst, src, port) {
									once(p.obj, "lets %s connect to %s on %s (spec.egress[%d]), but no NetworkPolicy of %s admits it",
										src.owner, dst.owner, port, i, dst.owner)
								}
							}
						}
					}
					if !found {
						once(p.obj, "spec.egress[%d] allows %s to pods %s, where no container declares it (%s)",
							i, describePort(pp), metav1.FormatLabelSelector(peer.PodSelector), ownersOf(targets))
					}
				}
			}
		}
	}

	// Ingress from pods of the render: those pods' egress must allow it.
	for _, p := range pols {
		if !p.ingress {
			continue
		}
		for i, rule := range p.spec.Ingress {
			for _, peer := range rule.From {
				if !samePodsPeer(peer) {
					continue
				}
				for _, dst := range c.templates {
					if !p.selects(dst) {
						continue
					}
					for _, pp := range rule.Ports {
						for _, port := range listening(dst.tmpl, pp) {
							for _, src := range c.templates {
								if !c.peerSelectsTemplate(peer, p.obj.namespace, src) {
									continue
								}
								if !c.allowsEgress(pols, src, dst, port) {
									once(p.obj, "admits %s into %s on %s (spec.ingress[%d]), but no NetworkPolicy of %s lets it out",
										src.owner, dst.owner, port, i, src.owner)
								}
							}
						}
					}
				}
			}
		}
	}
}

func ownersOf(pts []podTemplate) string {
	var names []string
	for _, pt := range pts {
		names = append(names, pt.owner.String())
	}
	return strings.Join(names, ", ")
}
