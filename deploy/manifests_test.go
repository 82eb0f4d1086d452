package deploy

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// yamlDocs parses every document of a YAML file into generic values. Go's
// standard library reads no YAML and the module keeps its dependencies
// few, so it asks the PyYAML that Debian's docker-compose is built on; the
// test is skipped where that is missing.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return yamlBytes(t, path, b)
}

func yamlBytes(t *testing.T, name string, b []byte) []map[string]any {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 (with PyYAML) is needed to parse YAML")
	}
	cmd := exec.Command("python3", "-c",
		`import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)`)
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if strings.Contains(stderr.String(), "No module named 'yaml'") {
		t.Skip("PyYAML is needed to parse YAML")
	}
	if err != nil {
		t.Fatalf("%s is not valid YAML: %v: %s", name, err, stderr.String())
	}
	var docs []map[string]any
	if err := json.Unmarshal(out, &docs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return docs
}

// at walks a path of map keys and list indexes through a generic value.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := at(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := at(v, path...).([]any)
	return l
}

// matches reports whether every label of selector is on labels.
func matches(selector, labels any) bool {
	sel, _ := selector.(map[string]any)
	lab, _ := labels.(map[string]any)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if lab[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in k8s/: %v", err)
	}
	objects := map[string]map[string]any{} // "Kind/name"
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			kind := str(d, "kind")
			if str(d, "apiVersion") == "" || kind == "" {
				t.Errorf("%s: a document without apiVersion or kind", f)
			}
			if kind == "Kustomization" {
				objects["Kustomization/"+filepath.Base(f)] = d
				continue
			}
			name := str(d, "metadata", "name")
			if name == "" {
				t.Errorf("%s: %s without metadata.name", f, kind)
			}
			objects[kind+"/"+name] = d
		}
	}
	get := func(key string) map[string]any {
		t.Helper()
		o, ok := objects[key]
		if !ok {
			t.Fatalf("no %s among the manifests", key)
		}
		return o
	}

	// The kustomization lists every manifest but the example Secret.
	kust := get("Kustomization/kustomization.yaml")
	var listed []string
	for _, r := range list(kust, "resources") {
		listed = append(listed, "k8s/"+r.(string))
	}
	for _, f := range files {
		want := filepath.Base(f) != "kustomization.yaml" && filepath.Base(f) != "secret.example.yaml"
		if got := slices.Contains(listed, f); got != want {
			t.Errorf("kustomization lists %s: %v, want %v", f, got, want)
		}
	}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		if out, err := exec.Command(kubectl, "kustomize", "k8s").CombinedOutput(); err != nil {
			t.Errorf("kubectl kustomize k8s: %v: %s", err, out)
		}
	}

	sts := get("StatefulSet/innonet")
	podLabels := at(sts, "spec", "template", "metadata", "labels")
	if r, _ := at(sts, "spec", "replicas").(float64); r != 1 {
		t.Errorf("StatefulSet replicas = %v, want 1 (one pod is one site)", at(sts, "spec", "replicas"))
	}
	if !matches(at(sts, "spec", "selector", "matchLabels"), podLabels) {
		t.Error("StatefulSet selector does not match its pod labels")
	}
	headless := get("Service/" + str(sts, "spec", "serviceName"))
	if str(headless, "spec", "clusterIP") != "None" {
		t.Error("the StatefulSet's serviceName is not a headless Service")
	}
	if g, _ := at(sts, "spec", "template", "spec", "terminationGracePeriodSeconds").(float64); g < 40 {
		t.Errorf("terminationGracePeriodSeconds = %v, want at least 40 (API 5s + Raft transport timeout 30s on wan)", g)
	}
	pod := at(sts, "spec", "template", "spec")
	if at(pod, "securityContext", "runAsNonRoot") != true || at(pod, "securityContext", "runAsUser") != float64(65532) {
		t.Error("the pod does not run as the image's non-root user 65532")
	}
	c := at(pod, "containers", 0)
	if at(c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("the container's root filesystem is writable")
	}
	if str(c, "readinessProbe", "httpGet", "path") != "/readyz" || str(c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Error("want readiness on /readyz and liveness on /healthz")
	}
	for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		if str(c, probe, "httpGet", "scheme") != "HTTPS" {
			t.Errorf("%s: want scheme HTTPS (the API serves only TLS)", probe)
		}
	}

	// Every $(VAR) in the arguments is defined, every ConfigMap key exists.
	cm := get("ConfigMap/innonet-site")
	env := map[string]bool{}
	for _, e := range list(c, "env") {
		env[str(e, "name")] = true
		ref := at(e, "valueFrom", "configMapKeyRef")
		if ref == nil {
			continue
		}
		if str(ref, "name") != "innonet-site" || at(cm, "data", str(ref, "key")) == nil {
			t.Errorf("env %s refers to %s/%s, which does not exist", str(e, "name"), str(ref, "name"), str(ref, "key"))
		}
	}
	var args []string
	for _, a := range list(c, "args") {
		args = append(args, a.(string))
		for _, m := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(a.(string), -1) {
			if !env[m[1]] {
				t.Errorf("argument %q uses $(%s), which is not in the container's env", a, m[1])
			}
		}
	}
	for _, flag := range []string{"--api-advertise=", "--raft-advertise=", "--data-dir=/data", "--admin-token-file=",
		"--tls-cert=", "--tls-key=", "--tls-ca="} {
		if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, flag) }) {
			t.Errorf("serve arguments lack %s", flag)
		}
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--insecure") }) {
		t.Error("serve arguments turn TLS off (--insecure)")
	}
	if host, _, err := net.SplitHostPort(str(cm, "data", "raft-advertise")); err != nil || net.ParseIP(host) == nil {
		t.Errorf("raft-advertise %q: want IP:port (the Raft transport needs an IP)", str(cm, "data", "raft-advertise"))
	}

	// The volumes: data from the claim template, credentials and TLS files
	// from the Secrets, each Secret key the file of one flag.
	mounts := map[string]string{}
	for _, m := range list(c, "volumeMounts") {
		mounts[str(m, "name")] = str(m, "mountPath")
		if str(m, "subPath") != "" {
			t.Errorf("volume %s is mounted with subPath, which a renewed Secret never reaches", str(m, "name"))
		}
	}
	if str(sts, "spec", "volumeClaimTemplates", 0, "metadata", "name") != "data" || mounts["data"] != "/data" {
		t.Error("want the claim template data mounted on /data")
	}
	secret := get("Secret/innonet-credentials")
	for _, v := range list(pod, "volumes") {
		if str(v, "name") != "credentials" {
			continue
		}
		if str(v, "secret", "secretName") != str(secret, "metadata", "name") {
			t.Errorf("credentials volume mounts Secret %q", str(v, "secret", "secretName"))
		}
		for key := range at(secret, "stringData").(map[string]any) {
			if !slices.Contains(args, "--admin-token-file="+mounts["credentials"]+"/"+key) {
				t.Errorf("Secret key %s is not the --admin-token-file", key)
			}
		}
	}
	tlsSecret := get("Secret/innonet-tls")
	if str(tlsSecret, "type") != "kubernetes.io/tls" {
		t.Errorf("Secret innonet-tls has type %q, want kubernetes.io/tls", str(tlsSecret, "type"))
	}
	tlsFlags := map[string]string{"tls.crt": "--tls-cert=", "tls.key": "--tls-key=", "ca.crt": "--tls-ca="}
	var tlsMounted bool
	for _, v := range list(pod, "volumes") {
		if str(v, "secret", "secretName") != "innonet-tls" {
			continue
		}
		tlsMounted = true
		keys := at(tlsSecret, "stringData").(map[string]any)
		for key, flag := range tlsFlags {
			if keys[key] == nil {
				t.Errorf("Secret innonet-tls lacks %s", key)
			}
			if !slices.Contains(args, flag+mounts[str(v, "name")]+"/"+key) {
				t.Errorf("%s does not name %s of the innonet-tls Secret (mounted at %s): %q", flag, key, mounts[str(v, "name")], args)
			}
		}
	}
	if !tlsMounted {
		t.Error("the pod does not mount the innonet-tls Secret")
	}

	// Services and the budget select the pod, on ports it has.
	ports := map[string]bool{}
	for _, p := range list(c, "ports") {
		ports[str(p, "name")] = true
	}
	for key, o := range objects {
		switch str(o, "kind") {
		case "Service":
			if !matches(at(o, "spec", "selector"), podLabels) {
				t.Errorf("%s does not select the site's pod", key)
			}
			for _, p := range list(o, "spec", "ports") {
				if !ports[str(p, "targetPort")] {
					t.Errorf("%s targets port %q, which the container does not name", key, str(p, "targetPort"))
				}
			}
		case "PodDisruptionBudget":
			if !matches(at(o, "spec", "selector", "matchLabels"), podLabels) {
				t.Errorf("%s does not select the site's pod", key)
			}
		}
	}
	if at(get("Service/innonet-peer"), "spec", "publishNotReadyAddresses") != true {
		t.Error("innonet-peer must publish a not-ready site: without a leader no site is ready")
	}
}

func TestComposeFile(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("docker-compose is not installed")
	}
	// An empty env file keeps an operator's deploy/.env out of the test.
	noEnv := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(noEnv, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the admin token the file refuses to resolve, and says why.
	cmd := exec.Command("docker-compose", "--env-file", noEnv, "-f", "docker-compose.yml", "config", "-q")
	cmd.Env = withoutAdminToken(os.Environ())
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "INNONET_ADMIN_TOKEN") {
		t.Errorf("config without INNONET_ADMIN_TOKEN: err %v, output %q; want a failure naming the variable", err, out)
	}

	cmd = exec.Command("docker-compose", "--env-file", noEnv, "-f", "docker-compose.yml", "-f", "docker-compose.ports.yml", "config")
	cmd.Env = append(withoutAdminToken(os.Environ()), "INNONET_ADMIN_TOKEN=inn_test")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-compose config: %v", err)
	}
	cfg := yamlBytes(t, "docker-compose config", out)[0]

	sites := map[string]string{"cgo": "voter", "bos": "voter", "cbg": "voter", "muc": "voter", "tlv": "voter",
		"bohai": "nonvoter", "yrd": "nonvoter", "prd": "nonvoter"}
	wanIPs, volumes := map[string]bool{}, map[string]bool{}
	certs := at(cfg, "services", "certs")
	var certsCmd []string
	for _, a := range list(certs, "command") {
		certsCmd = append(certsCmd, a.(string))
	}
	if str(certs, "restart") != "no" || len(certsCmd) == 0 || certsCmd[0] != "certs" || !slices.Contains(certsCmd, "--dir=/certs") ||
		!slices.Contains(list(certs, "volumes"), any("certs:/certs:rw")) {
		t.Errorf("want a one-shot certs service (restart \"no\") running `innonet certs --dir=/certs` on the certs volume: %v", certs)
	}
	siteHosts := strings.Join(certsCmd, " ")
	for name, role := range sites {
		svc := at(cfg, "services", name)
		if svc == nil {
			t.Errorf("no service %s", name)
			continue
		}
		var cmdline []string
		for _, a := range list(svc, "command") {
			cmdline = append(cmdline, a.(string))
		}
		joined := " " + strings.Join(cmdline, " ") + " "
		wan := str(svc, "networks", "wan", "ipv4_address")
		if wan == "" || str(svc, "networks", "clients", "ipv4_address") == "" {
			t.Errorf("%s: want a static address on both the wan and clients networks", name)
		}
		wanIPs[wan] = true
		for _, ip := range []string{wan, str(svc, "networks", "clients", "ipv4_address")} {
			if !regexp.MustCompile(`[=,] ?` + strings.ToUpper(name) + `=[^,]*\b` + regexp.QuoteMeta(ip) + `\b`).MatchString(siteHosts) {
				t.Errorf("%s: its certificate lacks its address %s (certs --site-hosts): %q", name, ip, siteHosts)
			}
		}
		if str(svc, "depends_on", "certs", "condition") != "service_completed_successfully" {
			t.Errorf("%s does not wait for the certs service to complete: %v", name, at(svc, "depends_on"))
		}
		if !slices.Contains(list(svc, "volumes"), any("certs:/certs:ro")) {
			t.Errorf("%s does not mount the certs volume read-only: %v", name, list(svc, "volumes"))
		}
		if strings.Contains(joined, "--insecure") {
			t.Errorf("%s runs without TLS: %q", name, joined)
		}
		for _, want := range []string{
			" --site=" + strings.ToUpper(name) + " ", " --data-dir=/data ", " --tls-dir=/certs ",
			" --api-advertise=" + wan + ":7100 ", " --raft-advertise=" + wan + ":7200 ",
		} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: command %q lacks %q", name, joined, strings.TrimSpace(want))
			}
		}
		switch {
		case name == "cgo":
			if !strings.Contains(joined, " --bootstrap ") || strings.Contains(joined, "--join") {
				t.Errorf("cgo must bootstrap, not join: %q", joined)
			}
		case !strings.Contains(joined, " --join="+str(at(cfg, "services", "cgo"), "networks", "wan", "ipv4_address")+":7100 "):
			t.Errorf("%s must join through CGO's wan address: %q", name, joined)
		}
		if got := strings.Contains(joined, " --nonvoter "); got != (role == "nonvoter") {
			t.Errorf("%s: --nonvoter %v, want %s", name, got, role)
		}
		for _, v := range list(svc, "volumes") {
			if parts := strings.Split(v.(string), ":"); len(parts) > 1 && parts[1] == "/data" {
				volumes[parts[0]] = true
			}
		}
		if str(svc, "environment", "INNONET_ADMIN_TOKEN") != "inn_test" {
			t.Errorf("%s does not get INNONET_ADMIN_TOKEN", name)
		}
	}
	if len(wanIPs) != len(sites) || len(volumes) != len(sites) {
		t.Errorf("want a wan address and a volume of its own for each of the %d sites: addresses %v, volumes %v", len(sites), wanIPs, volumes)
	}
	seed := at(cfg, "services", "seed")
	if at(seed, "profiles") == nil {
		t.Error("the seed service must sit in a profile, so that `up` does not run it")
	}
	if str(seed, "environment", "INNONET_CA") != "/certs/ca.crt" || !slices.Contains(list(seed, "volumes"), any("certs:/certs:ro")) {
		t.Error("the seed service must trust the network's CA: INNONET_CA=/certs/ca.crt from the certs volume")
	}
}

func withoutAdminToken(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "INNONET_ADMIN_TOKEN=") })
}

func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("systemd/innonet.service")
	if err != nil {
		t.Fatal(err)
	}
	envFile, err := os.ReadFile("systemd/innonet.env")
	if err != nil {
		t.Fatal(err)
	}
	// Every variable ExecStart uses is set in the sample environment file.
	set := map[string]bool{}
	for _, line := range strings.Split(string(envFile), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			set[strings.TrimSpace(k)] = true
		}
	}
	for _, m := range regexp.MustCompile(`\$\{?([A-Z_]+)\}?`).FindAllStringSubmatch(string(unit), -1) {
		if !set[m[1]] && m[1] != "MAINPID" { // MAINPID: systemd's own
			t.Errorf("innonet.service uses $%s, which innonet.env does not set", m[1])
		}
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=innonet", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"Restart=on-failure", "KillSignal=SIGTERM", "TimeoutStopSec=", "ExecReload=/bin/kill -HUP $MAINPID",
		"SupplementaryGroups=innonet-tls", "    --tls-cert=", "    --tls-key=", "    --tls-ca="} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("innonet.service lacks %s", want)
		}
	}
	if strings.Contains(string(unit), "--insecure") {
		t.Error("innonet.service runs without TLS (--insecure)")
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	// verify wants the binary to exist: point ExecStart at this test binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "innonet.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/innonet"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v: %s", err, out)
	}
}

func TestScriptsParse(t *testing.T) {
	for _, s := range []string{"build-image.sh", "up.sh", "down.sh"} {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v: %s", s, err, out)
		}
	}
}
