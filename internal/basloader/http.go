package basloader

import (
	"fmt"
	"mime"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// The rules BAS's HTTP client applies to a site's answers (BAS as the client of obmin's 1C exchange
// endpoint). Sources are [A]'s ОбменССайтом: ПолучитьДанныеССервера and ЗаписатьОтветВФайл (every answer
// is read through a temporary file in the charset named by Content-Type), ВыполнитьАвторизациюДляСоединения
// (checkauth), ВыгрузитьНаСайт (init and file uploads) and ЗагрузитьЗаказыССайта (query). docs/http.md
// lists what obmin answers because of them.

const (
	srcHTTPCharset = "[A] ОбменССайтом.ПолучитьДанныеССервера: the answer is read in the encoding after «charset=» of Content-Type"
	srcHTTPQuery   = "[A] ОбменССайтом.ЗагрузитьЗаказыССайта: Лев(ОтветСервера, 2) = \"PK\" or Лев(ОтветСервера, 5) = \"<?xml\""
	srcHTTPInit    = "[A] ОбменССайтом.ВыгрузитьНаСайт: the init answer must have exactly two lines"
	srcHTTPUpload  = "[A] ОбменССайтом.ВыгрузитьНаСайт: the answer to a file upload is «success» or «failure»; «progress» is an error"
	srcHTTPAuth    = "[A] ОбменССайтом.ВыполнитьАвторизациюДляСоединения: line 1 «success», cookie name and value on lines 2 and 3"
)

// answerText decodes a body as BAS would: in the charset Content-Type names. Without one, BAS stops
// with an error; a charset it cannot decode likewise.
func answerText(contentType string, body []byte) (string, *Problem) {
	_, params, err := mime.ParseMediaType(contentType)
	cs := strings.ToLower(params["charset"])
	if err != nil || cs == "" {
		return "", &Problem{Rule: "Content-Type", Source: srcHTTPCharset, Msg: fmt.Sprintf("Content-Type %q names no charset: BAS stops the exchange with an error", contentType), Fatal: true}
	}
	switch cs {
	case "utf-8", "utf8":
		return string(body), nil
	case "windows-1251", "cp1251":
		return decode1251(body), nil
	}
	return "", &Problem{Rule: "Content-Type", Source: srcHTTPCharset, Msg: fmt.Sprintf("charset %q is not one obmin may assume BAS reads", cs), Fatal: true}
}

// CheckQuery checks the answer to mode=query: what BAS loads as orders.
func CheckQuery(contentType string, body []byte) []Problem {
	text, p := answerText(contentType, body)
	if p != nil {
		return []Problem{*p}
	}
	var out []Problem
	if strings.HasPrefix(text, "\uFEFF") {
		out = append(out, Problem{Rule: "BOM", Source: srcHTTPQuery, Msg: "the answer starts with a byte order mark: whether the platform drops it before the «<?xml» check is not documented", Fatal: true})
	}
	switch {
	case strings.HasPrefix(text, "PK"):
		out = append(out, Problem{Rule: "zip", Source: srcHTTPQuery, Msg: "a zipped answer: BAS decodes it as text first and cannot unpack it", Fatal: true})
	case !strings.HasPrefix(strings.TrimPrefix(text, "\uFEFF"), "<?xml"):
		out = append(out, Problem{Rule: "<?xml", Source: srcHTTPQuery, Msg: fmt.Sprintf("the answer starts %q, not «<?xml»: «Не вдалося прочитати дані, завантажені із сервера»", head(text)), Fatal: true})
	}
	return out
}

// CheckInit checks an answer to mode=init.
func CheckInit(contentType string, body []byte) []Problem {
	text, p := answerText(contentType, body)
	if p != nil {
		return []Problem{*p}
	}
	if n := len(strings.Split(strings.TrimRight(text, "\n"), "\n")); n != 2 {
		return []Problem{{Rule: "init", Source: srcHTTPInit, Msg: fmt.Sprintf("the answer has %d lines: %q", n, text), Fatal: true}}
	}
	return nil
}

// CheckUpload checks the answer to one mode=file upload.
func CheckUpload(contentType string, body []byte) []Problem {
	text, p := answerText(contentType, body)
	if p != nil {
		return []Problem{*p}
	}
	first, _, _ := strings.Cut(text, "\n")
	switch strings.ToLower(strings.TrimSpace(first)) {
	case "success", "failure":
		return nil
	}
	return []Problem{{Rule: "file", Source: srcHTTPUpload, Msg: fmt.Sprintf("the answer to a file upload is %q", first), Fatal: true}}
}

// CheckAuth checks the answer to mode=checkauth.
func CheckAuth(contentType string, body []byte) []Problem {
	text, p := answerText(contentType, body)
	if p != nil {
		return []Problem{*p}
	}
	lines := strings.Split(text, "\n")
	if strings.ToLower(strings.TrimSpace(lines[0])) != "success" || len(lines) < 3 || lines[1] == "" || lines[2] == "" {
		return []Problem{{Rule: "checkauth", Source: srcHTTPAuth, Msg: fmt.Sprintf("the answer %q is not «success», cookie name, cookie value", text), Fatal: true}}
	}
	return nil
}

func head(s string) string {
	r := []rune(s)
	return string(r[:min(len(r), 20)])
}

func decode1251(b []byte) string {
	s, err := charmap.Windows1251.NewDecoder().String(string(b))
	if err != nil {
		return string(b)
	}
	return s
}
