package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/truewatch-labs/marketplace-go/api"
)

// registerControl mounts the control plane under /_mock/, for the binary
// and for tests in other languages:
//
//	GET  /_mock/health                          {"status":"ok"}
//	POST /_mock/reset                           drop all state, reseed the demo fixture
//	GET  /_mock/purchases                       every purchase
//	POST /_mock/purchases                       add a purchase (JSON Purchase)
//	POST /_mock/purchases/{instanceId}/release  close a purchase
//	POST /_mock/huawei-accounts                 add a Huawei account (JSON HuaweiAccount)
//	GET  /_mock/faults                          the faults added, each with its "hits"
//	POST /_mock/faults                          add a fault (JSON Fault; durations in seconds or "1.5s")
//	DELETE /_mock/faults                        clear faults
//	GET  /_mock/outbox[?email=]                 verification emails sent (Email), oldest first
//	GET  /_mock/openapi.yaml                    the Billing Center and workspace contract (api/openapi.yaml)
func (s *Server) registerControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /_mock/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "time": s.Now().UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("GET /_mock/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.Spec())
	})
	mux.HandleFunc("POST /_mock/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reset(); err != nil {
			controlError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	})
	mux.HandleFunc("GET /_mock/purchases", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Purchases())
	})
	mux.HandleFunc("POST /_mock/purchases", controlAdd(s.AddPurchase))
	mux.HandleFunc("POST /_mock/purchases/{instanceId}/release", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ReleasePurchase(r.PathValue("instanceId")); err != nil {
			controlError(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "released"})
	})
	mux.HandleFunc("POST /_mock/huawei-accounts", controlAdd(func(a HuaweiAccount) (map[string]string, error) {
		return map[string]string{"id": a.ID}, s.AddHuaweiAccount(a)
	}))
	mux.HandleFunc("POST /_mock/faults", controlAdd(func(f Fault) (map[string]string, error) {
		return map[string]string{"status": "added"}, s.InjectFault(f)
	}))
	mux.HandleFunc("GET /_mock/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("DELETE /_mock/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]string{"status": "cleared"})
	})
	mux.HandleFunc("GET /_mock/outbox", s.handleOutbox)
}

// controlAdd serves a control-plane POST that adds something: decode a T,
// add it, answer 201 with what add returns or 400 with its error.
func controlAdd[T, R any](add func(T) (R, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if !decodeControl(w, r, &v) {
			return
		}
		out, err := add(v)
		if err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	}
}

// decodeControl decodes a control-plane body: exactly one JSON object, no
// unknown fields.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
			err = errors.New("the body must be a JSON object")
		}
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err = dec.Decode(v); err == nil {
			if _, tok := dec.Token(); tok != io.EOF {
				err = errors.New("the body must hold exactly one JSON object")
			}
		}
	}
	if err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		controlError(w, status, err)
		return false
	}
	return true
}

func controlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
